//! The WebSocket at `/v1/socket`: `{"type":"connected"}`, then after
//! `{"type":"task_info","tasktoken":…}` the task's current status, then one frame per status
//! change, closed after the terminal frame.
//!
//! The current state and the subscription are taken under the task lock that status changes
//! are published under, so no frame falls between the reply and the live frames.

use std::sync::Arc;

use axum::extract::ws::{CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use serde_json::json;
use tokio::sync::broadcast::error::RecvError;

use crate::api::wire::{SocketFrame, TaskInfoRequest};

use super::basics::lock;
use super::faults::{Fault, Operation};
use super::gate::gate;
use super::state::Shared;

/// Upgrades the connection (answering 500/429 instead when a fault says so).
pub(crate) async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let fault = match gate(&shared, Operation::Socket, None).await {
        Ok(fault) => fault,
        Err(answer) => return answer,
    };
    // Frames here are a few hundred bytes; tungstenite's default 128 KiB read buffer per
    // socket made a thousand waiting clients cost the emulator over 100 MB.
    ws.read_buffer_size(SOCKET_BUFFER_BYTES)
        .write_buffer_size(0)
        .on_upgrade(move |socket| session(shared, socket, fault))
}

/// The read buffer of one socket: a frame of any size still arrives (the buffer grows), this
/// is only what each open socket holds while idle.
const SOCKET_BUFFER_BYTES: usize = 4 * 1024;

async fn send(socket: &mut WebSocket, frame: &SocketFrame) -> Option<()> {
    let text = serde_json::to_string(frame).ok()?;
    socket.send(Message::Text(text.into())).await.ok()
}

async fn close(mut socket: WebSocket, reason: &'static str) {
    let frame = CloseFrame {
        code: axum::extract::ws::close_code::NORMAL,
        reason: reason.into(),
    };
    let _ = socket.send(Message::Close(Some(frame))).await;
}

/// Waits for a `task_info` registration; `None` when the client leaves first.
async fn registration(socket: &mut WebSocket) -> Option<String> {
    loop {
        match socket.recv().await? {
            Ok(Message::Text(text)) => {
                if let Ok(request) = serde_json::from_str::<TaskInfoRequest>(&text) {
                    if request.kind == "task_info" {
                        return Some(request.tasktoken);
                    }
                }
            }
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

async fn session(shared: Arc<Shared>, mut socket: WebSocket, fault: Option<Fault>) {
    let connected = SocketFrame {
        kind: "connected".into(),
        ..SocketFrame::default()
    };
    if send(&mut socket, &connected).await.is_none() {
        return;
    }
    let Some(token) = registration(&mut socket).await else {
        return;
    };
    let found = {
        let book = lock(&shared.tasks);
        book.resolve(None, Some(&token))
            .and_then(|id| book.by_id.get(&id))
            .map(|entry| (entry.current_frame(), entry.events.subscribe()))
    };
    let Some((current, mut events)) = found else {
        let error = SocketFrame {
            kind: "error".into(),
            message: json!("unknown task token"),
            result: Some(false),
            ..SocketFrame::default()
        };
        let _ = send(&mut socket, &error).await;
        close(socket, "unknown task token").await;
        return;
    };
    if send(&mut socket, &current).await.is_none() {
        return;
    }
    if matches!(fault, Some(Fault::SocketDrop | Fault::DropConnection)) {
        // Dropped without a closing handshake, as a lost connection looks to the client.
        return;
    }
    if current.extra.contains_key("terminal") {
        close(socket, "task ended").await;
        return;
    }
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Ok(frame) => {
                    let terminal = frame.extra.contains_key("terminal");
                    if send(&mut socket, &frame).await.is_none() {
                        return;
                    }
                    if terminal {
                        close(socket, "task ended").await;
                        return;
                    }
                }
                // Frames were missed (a reader far behind) or the task is gone: say where it is.
                Err(RecvError::Lagged(_)) => {
                    let now = {
                        let book = lock(&shared.tasks);
                        book.resolve(None, Some(&token))
                            .and_then(|id| book.by_id.get(&id))
                            .map(|entry| entry.current_frame())
                    };
                    match now {
                        Some(frame) => {
                            if send(&mut socket, &frame).await.is_none() {
                                return;
                            }
                        }
                        None => return,
                    }
                }
                Err(RecvError::Closed) => return,
            },
            incoming = socket.recv() => match incoming {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                Some(Ok(_)) => {}
            },
            _ = shared.shutdown.cancelled() => {
                close(socket, "emulator shutting down").await;
                return;
            }
        }
    }
}
