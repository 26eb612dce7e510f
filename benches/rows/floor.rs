//! The floor under a row's chain: the same requests and the same durable writes as the client
//! makes for text-to-video → wait → download, made with plain blocking calls and nothing else
//! (no runtime, no HTTP library, no JSON beyond finding the task's id and file). Its system
//! CPU per chain is what the kernel charges for the chain's work itself; the client's CPU
//! above it is the client's own.
//!
//! Per chain: the Run and a Task/Detail on one kept-alive connection, the task's WebSocket
//! (connect, upgrade, `task_info`, frames until the end, close), a Task/Detail, the file's GET
//! on another kept-alive connection; then, as the client's journal and download do, a
//! `submitting` line synced, two lines, a row folder, the file written under a temporary name,
//! fsynced and renamed, two lines synced.

use std::fs::OpenOptions;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

/// One HTTP/1.1 connection kept alive, reading answers by their `Content-Length`.
struct Connection {
    stream: TcpStream,
    host: String,
    buffer: Vec<u8>,
}

impl Connection {
    fn open(host: &str) -> Self {
        let stream = TcpStream::connect(host).expect("connect to the emulator");
        stream.set_nodelay(true).expect("nodelay");
        Self {
            stream,
            host: host.to_owned(),
            buffer: Vec::new(),
        }
    }

    /// Sends a request and returns the answer's body.
    fn exchange(&mut self, method: &str, path: &str, headers: &str, body: &[u8]) -> Vec<u8> {
        let head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n{headers}\r\n",
            self.host,
            body.len()
        );
        let mut request = head.into_bytes();
        request.extend_from_slice(body);
        self.stream.write_all(&request).expect("send");
        let head_end = loop {
            if let Some(at) = find(&self.buffer, b"\r\n\r\n") {
                break at + 4;
            }
            self.fill();
        };
        let head = String::from_utf8_lossy(&self.buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|line| line.strip_prefix("content-length:"))
            .expect("a Content-Length")
            .trim()
            .parse()
            .expect("a length");
        while self.buffer.len() < head_end + length {
            self.fill();
        }
        let body = self.buffer[head_end..head_end + length].to_vec();
        self.buffer.drain(..head_end + length);
        body
    }

    fn fill(&mut self) {
        let mut chunk = [0u8; 64 * 1024];
        let read = self.stream.read(&mut chunk).expect("read");
        assert!(read > 0, "the emulator closed the connection");
        self.buffer.extend_from_slice(&chunk[..read]);
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack
        .windows(needle.len())
        .position(|window| window == needle)
}

/// The text of the JSON string after `"name":"` in `text`.
fn string_field<'t>(text: &'t str, name: &str) -> &'t str {
    let start = text
        .find(&format!("\"{name}\":\""))
        .unwrap_or_else(|| panic!("no {name} in {text}"))
        + name.len()
        + 4;
    let end = text[start..].find('"').expect("a closing quote") + start;
    &text[start..end]
}

/// Follows a task's WebSocket from connect to its end frame, and closes it.
fn follow_socket(socket_host: &str, socket_path: &str, token: &str) {
    let mut stream = TcpStream::connect(socket_host).expect("connect to the socket");
    stream.set_nodelay(true).expect("nodelay");
    write!(
        stream,
        "GET {socket_path} HTTP/1.1\r\nhost: {socket_host}\r\nupgrade: websocket\r\n\
         connection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
         sec-websocket-version: 13\r\n\r\n"
    )
    .expect("upgrade");
    let mut writer = stream.try_clone().expect("clone");
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    let mut read = |buffer: &mut Vec<u8>| {
        let n = stream.read(&mut chunk).expect("read the socket");
        assert!(n > 0, "the socket closed before the task ended");
        buffer.extend_from_slice(&chunk[..n]);
    };
    let upgraded = loop {
        if let Some(at) = find(&buffer, b"\r\n\r\n") {
            break at + 4;
        }
        read(&mut buffer);
    };
    buffer.drain(..upgraded);
    let message = format!(r#"{{"type":"task_info","tasktoken":"{token}"}}"#);
    let mask = [0x12u8, 0x34, 0x56, 0x78];
    let mut frame = vec![0x81, 0x80 | message.len() as u8];
    frame.extend_from_slice(&mask);
    frame.extend(message.bytes().enumerate().map(|(i, b)| b ^ mask[i % 4]));
    writer.write_all(&frame).expect("register");
    loop {
        while buffer.len() < 2 {
            read(&mut buffer);
        }
        let (length, offset) = match buffer[1] & 0x7f {
            126 => {
                while buffer.len() < 4 {
                    read(&mut buffer);
                }
                (u16::from_be_bytes([buffer[2], buffer[3]]) as usize, 4)
            }
            127 => panic!("a frame over 64 KiB"),
            length => (length as usize, 2),
        };
        while buffer.len() < offset + length {
            read(&mut buffer);
        }
        let payload = &buffer[offset..offset + length];
        let ended = find(payload, b"task_postprocess_end").is_some()
            || find(payload, b"task_cancel").is_some();
        buffer.drain(..offset + length);
        if ended {
            break;
        }
    }
    // A close frame, as a client closes the socket.
    writer.write_all(&[0x88, 0x80, 0, 0, 0, 0]).expect("close");
}

/// System and user CPU seconds of this process so far.
fn cpu_seconds() -> (f64, f64) {
    // SAFETY: an all-zero rusage is valid; getrusage fills it.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: a valid pointer to our own rusage.
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    let seconds = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (seconds(usage.ru_stime), seconds(usage.ru_utime))
}

/// Runs `chains` chains one after another against the emulator at `base` (`http://HOST/v1`,
/// an emulator started with `--key-only`) and its socket at `socket` (`ws://HOST/PATH`),
/// writing into `out`; prints the system and user CPU per chain.
pub fn measure(chains: usize, base: &str, socket: &str, api_key: &str, out: &Path) {
    let api_host = base
        .trim_start_matches("http://")
        .trim_end_matches("/v1")
        .to_owned();
    let (socket_host, socket_path) = socket
        .trim_start_matches("ws://")
        .split_once('/')
        .map(|(host, path)| (host.to_owned(), format!("/{path}")))
        .expect("ws://HOST/PATH");
    std::fs::create_dir_all(out).expect("the output folder");
    let mut journal = OpenOptions::new()
        .create(true)
        .append(true)
        .open(out.join("journal.jsonl"))
        .expect("the journal");
    let line = br#"{"node":"video","key":"0f3a9c2e5d7b8a1f0f3a9c2e5d7b8a1f0f3a9c2e5d7b8a1f0f3a9c2e5d7b8a1f","at":1764892800000,"event":"submitting"}
"#;
    let headers = format!("x-api-key: {api_key}\r\ncontent-type: application/json\r\n");
    let mut api = Connection::open(&api_host);
    let mut files: Option<Connection> = None;
    // System CPU in the network's part and in the disk's part, and user CPU in all.
    let (mut network, mut disk) = (0.0, 0.0);
    let (_, user_before) = cpu_seconds();
    for row in 0..chains {
        let (at_start, _) = cpu_seconds();
        journal.write_all(line).expect("journal");
        journal.sync_data().expect("sync the journal");
        let (at_network, _) = cpu_seconds();
        let body = format!(
            r#"{{"prompt":"clip number {row}, a fox","quality":"360p","duration":"5","seed":"7"}}"#
        );
        let run = api.exchange(
            "POST",
            "/v1/Run/pixverse/text-to-video-v4",
            &headers,
            body.as_bytes(),
        );
        let run = String::from_utf8(run).expect("utf-8");
        let taskid = string_field(&run, "taskid").to_owned();
        let token = string_field(&run, "socketaccesstoken").to_owned();
        journal.write_all(line).expect("journal");
        let detail = format!(r#"{{"taskid":"{taskid}"}}"#);
        api.exchange("POST", "/v1/Task/Detail", &headers, detail.as_bytes());
        follow_socket(&socket_host, &socket_path, &token);
        let ended = api.exchange("POST", "/v1/Task/Detail", &headers, detail.as_bytes());
        let ended = String::from_utf8(ended).expect("utf-8");
        let url = string_field(&ended, "url");
        let (file_host, file_path) = url
            .trim_start_matches("http://")
            .split_once('/')
            .expect("http://HOST/PATH");
        let file_path = format!("/{file_path}");
        let connection = files.get_or_insert_with(|| Connection::open(file_host));
        let clip = connection.exchange("GET", &file_path, "", b"");
        let (at_disk, _) = cpu_seconds();
        journal.write_all(line).expect("journal");
        let folder = out.join(format!("row-{row:04}"));
        std::fs::create_dir(&folder).expect("the row's folder");
        let partial = folder.join("clip.mp4.partial");
        let mut file = std::fs::File::create(&partial).expect("the file");
        file.write_all(&clip).expect("write the file");
        file.sync_all().expect("sync the file");
        drop(file);
        std::fs::rename(&partial, folder.join("clip.mp4")).expect("rename");
        journal.write_all(line).expect("journal");
        journal.write_all(line).expect("journal");
        journal.sync_data().expect("sync the journal");
        let (at_end, _) = cpu_seconds();
        network += at_disk - at_network;
        disk += (at_network - at_start) + (at_end - at_disk);
    }
    let (_, user_after) = cpu_seconds();
    let per_chain = |seconds: f64| seconds * 1000.0 / chains as f64;
    println!("floor: {chains} chains, one at a time, plain blocking calls");
    println!(
        "  system CPU per chain, disk     {:.3} ms (journal lines and syncs, folder, file, fsync, rename)",
        per_chain(disk)
    );
    println!(
        "  system CPU per chain, network  {:.3} ms (each read that finds nothing sleeps: an upper bound)",
        per_chain(network)
    );
    println!(
        "  user CPU per chain             {:.3} ms (this loop's own, not comparable)",
        per_chain(user_after - user_before)
    );
}
