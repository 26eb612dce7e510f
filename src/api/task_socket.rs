//! The task's WebSocket, followed on a task of its own: it registers with `task_info` and
//! hands the task's frames to the wait through a channel, ending with why it closed.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;

use super::tls;
use super::wire::{SocketFrame, TaskInfoRequest, TaskStatus};

/// What the socket hands to the wait.
pub(super) enum SocketMessage {
    /// A frame about the task.
    Frame(SocketFrame),
    /// The last message: why the socket closed (empty when it closed after the task's last
    /// frame).
    Closed(String),
}

/// Connects, registers with `task_info`, and forwards frames until the task ends or the
/// socket goes; the last message is always `Closed`.
pub(super) async fn follow_socket(
    url: String,
    token: String,
    sender: mpsc::UnboundedSender<SocketMessage>,
) {
    let reason = match run_socket(&url, &token, &sender).await {
        Ok(()) => String::new(),
        Err(reason) => reason,
    };
    let _ = sender.send(SocketMessage::Closed(reason));
}

/// The socket's life, frame by frame; `Err` says why it ended before the task did.
async fn run_socket(
    url: &str,
    token: &str,
    sender: &mpsc::UnboundedSender<SocketMessage>,
) -> std::result::Result<(), String> {
    let connector = tls::socket_config()
        .map(tokio_tungstenite::Connector::Rustls)
        .map_err(|e| e.to_string())?;
    // Status frames are small: a 4 KiB read buffer (it grows for a bigger frame) instead of
    // tungstenite's 128 KiB keeps a thousand open waits from holding 128 MB.
    let config = tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
        .read_buffer_size(4 * 1024)
        .write_buffer_size(0);
    let connect =
        tokio_tungstenite::connect_async_tls_with_config(url, Some(config), false, Some(connector));
    let (mut socket, _) = tokio::time::timeout(Duration::from_secs(10), connect)
        .await
        .map_err(|_| format!("connecting to {url} timed out"))?
        .map_err(|e| format!("connecting to {url}: {e}"))?;
    let register =
        serde_json::to_string(&TaskInfoRequest::new(token)).map_err(|e| e.to_string())?;
    socket
        .send(Message::text(register))
        .await
        .map_err(|e| format!("registering: {e}"))?;
    while let Some(message) = socket.next().await {
        let text = match message.map_err(|e| format!("socket dropped: {e}"))? {
            Message::Text(text) => text,
            Message::Close(frame) => {
                return Err(frame
                    .map(|f| format!("socket closed: {}", f.reason))
                    .unwrap_or_else(|| "socket closed".into()))
            }
            _ => continue,
        };
        let Ok(frame) = serde_json::from_str::<SocketFrame>(&text) else {
            continue;
        };
        if frame.tasktoken.as_deref().is_some_and(|t| t != token) {
            continue;
        }
        if frame.result == Some(false)
            && matches!(TaskStatus::parse(&frame.kind), TaskStatus::Other(_))
        {
            return Err(format!(
                "the socket refused the task: {}",
                frame.message_text()
            ));
        }
        let terminal = TaskStatus::parse(&frame.kind).is_terminal();
        if sender.send(SocketMessage::Frame(frame)).is_err() || terminal {
            return Ok(());
        }
    }
    Err("socket closed".into())
}
