//! The harness: a real roomd server on 127.0.0.1:0 inside the test's runtime, and raw
//! protocol clients (HTTP long-polling and WebSocket) that speak Engine.IO and Socket.IO
//! byte for byte, so tests can assert exactly what goes over the wire.

#![allow(dead_code, unreachable_pub)]

pub mod plugins;

use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full};
use roomd::config::Config;
use roomd::socketio::SocketIo;
use tokio::net::TcpStream;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long any single expected event may take before the test fails.
pub const PATIENCE: Duration = Duration::from_secs(5);

/// A server running in the test's runtime.
pub struct TestServer {
    pub addr: SocketAddr,
    pub io: SocketIo,
    pub app: Option<std::sync::Arc<roomd::app::App>>,
    stop: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<std::io::Result<()>>>,
}

impl TestServer {
    /// Serves the standalone relay configured by `toml`.
    pub async fn start(toml: &str) -> TestServer {
        let config = Config::parse(toml, Path::new("test.toml")).expect("valid test config");
        let path = config.path.clone();
        let app = std::sync::Arc::new(roomd::app::App::build(config).expect("server builds"));
        let mut server = TestServer::serve(app.io().clone(), &path).await;
        server.app = Some(app);
        server
    }

    /// Serves `io` under `path`.
    pub async fn serve(io: SocketIo, path: &str) -> TestServer {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop, stopped) = oneshot::channel::<()>();
        let path = path.to_owned();
        let served = io.clone();
        let task = tokio::spawn(async move {
            roomd::server::serve(listener, &path, served, async {
                let _ = stopped.await;
            })
            .await
        });
        TestServer { addr, io, app: None, stop: Some(stop), task: Some(task) }
    }

    /// Shuts the server down gracefully and waits for it.
    pub async fn shutdown(mut self) {
        let _ = self.stop.take().unwrap().send(());
        let task = self.task.take().unwrap();
        tokio::time::timeout(Duration::from_secs(10), task).await.expect("shutdown in time").unwrap().unwrap();
    }

    pub fn url(&self, path_and_query: &str) -> String {
        format!("http://{}{}", self.addr, path_and_query)
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An HTTP answer.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: String,
}

/// Sends one HTTP/1.1 request on a fresh connection.
pub async fn request(addr: SocketAddr, method: &str, path: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Answer {
    let stream = TcpStream::connect(addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    let mut builder = http::Request::builder().method(method).uri(path).header("host", addr.to_string());
    for (name, value) in headers {
        builder = builder.header(*name, *value);
    }
    let response = sender.send_request(builder.body(Full::new(body.into())).unwrap()).await.unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.into_body().collect().await.map(|b| b.to_bytes()).unwrap_or_default();
    Answer { status, headers, body: String::from_utf8_lossy(&body).into_owned() }
}

pub async fn get(addr: SocketAddr, path: &str) -> Answer {
    request(addr, "GET", path, &[], Bytes::new()).await
}

pub async fn post(addr: SocketAddr, path: &str, body: impl Into<Bytes>) -> Answer {
    request(addr, "POST", path, &[("content-type", "text/plain;charset=UTF-8")], body).await
}

/// A long-polling Engine.IO session opened by hand.
pub struct Polling {
    pub addr: SocketAddr,
    pub sid: String,
}

impl Polling {
    pub async fn open(addr: SocketAddr) -> Polling {
        let answer = get(addr, "/socket.io/?EIO=4&transport=polling").await;
        assert_eq!(answer.status, 200, "{}", answer.body);
        let open: serde_json::Value = serde_json::from_str(&answer.body[1..]).unwrap();
        Polling { addr, sid: open["sid"].as_str().unwrap().to_owned() }
    }

    pub fn path(&self) -> String {
        format!("/socket.io/?EIO=4&transport=polling&sid={}", self.sid)
    }

    pub async fn poll(&self) -> Answer {
        tokio::time::timeout(PATIENCE, get(self.addr, &self.path())).await.expect("poll answered")
    }

    pub async fn send(&self, payload: &str) -> Answer {
        post(self.addr, &self.path(), payload.to_owned()).await
    }

    /// The next `count` packets the server sends, polling as many times as it takes.
    pub async fn packets(&self, count: usize) -> Vec<String> {
        let mut packets = Vec::new();
        while packets.len() < count {
            packets.extend(self.poll().await.body.split('\u{1e}').map(str::to_owned));
        }
        packets
    }

    /// Whether the session still accepts packets (a noop is harmless).
    pub async fn is_alive(&self) -> bool {
        self.send("6").await.status == 200
    }

    /// Whether the server still knows the session (a closed one answers 400 "Session ID
    /// unknown").
    pub async fn is_gone(&self) -> bool {
        let answer = tokio::time::timeout(PATIENCE, get(self.addr, &self.path())).await.expect("answered");
        answer.status == 400 && answer.body.contains("Session ID unknown")
    }
}

/// A WebSocket speaking raw Engine.IO text.
pub struct Ws {
    pub stream: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

/// What a WebSocket read produced.
#[derive(Debug, PartialEq)]
pub enum Read {
    Text(String),
    Binary(Vec<u8>),
    Closed,
}

impl Ws {
    pub async fn connect(addr: SocketAddr, query: &str) -> Ws {
        let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket{query}");
        let (stream, _) = tokio_tungstenite::connect_async(url).await.expect("WebSocket handshake");
        Ws { stream }
    }

    /// Opens a session and returns it with its open packet.
    pub async fn open(addr: SocketAddr) -> (Ws, String) {
        let mut ws = Ws::connect(addr, "").await;
        let open = ws.text().await;
        assert!(open.starts_with("0{"), "{open}");
        (ws, open)
    }

    /// Opens a session and connects to `nsp`; returns the socket id.
    pub async fn socket(addr: SocketAddr, nsp: &str) -> (Ws, String) {
        let (mut ws, _) = Ws::open(addr).await;
        let sid = ws.connect_nsp(nsp).await;
        (ws, sid)
    }

    /// Sends CONNECT for `nsp` and returns the socket id from the answer.
    pub async fn connect_nsp(&mut self, nsp: &str) -> String {
        let prefix = if nsp == "/" { String::from("40") } else { format!("40{nsp},") };
        self.send(&prefix).await;
        let answer = self.text().await;
        let body = answer.strip_prefix(&prefix).unwrap_or_else(|| panic!("CONNECT answer {answer}"));
        let value: serde_json::Value = serde_json::from_str(body).unwrap();
        value["sid"].as_str().unwrap().to_owned()
    }

    pub async fn send(&mut self, text: &str) {
        self.stream.send(Message::text(text)).await.unwrap();
    }

    /// Sends several text frames in one write, as a client that emits in a burst does.
    pub async fn send_at_once(&mut self, texts: &[impl AsRef<str>]) {
        for text in texts {
            self.stream.feed(Message::text(text.as_ref())).await.unwrap();
        }
        self.stream.flush().await.unwrap();
    }

    pub async fn send_binary(&mut self, bytes: &[u8]) {
        self.stream.send(Message::binary(bytes.to_vec())).await.unwrap();
    }

    /// The next frame, answering pings on the way.
    pub async fn read(&mut self) -> Read {
        loop {
            let next = tokio::time::timeout(PATIENCE, self.stream.next()).await.expect("a frame in time");
            match next {
                Some(Ok(Message::Text(text))) if text.as_str() == "2" => self.send("3").await,
                Some(Ok(Message::Text(text))) => return Read::Text(text.to_string()),
                Some(Ok(Message::Binary(bytes))) => return Read::Binary(bytes.to_vec()),
                Some(Ok(Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return Read::Closed,
            }
        }
    }

    /// The next text frame; fails on anything else.
    pub async fn text(&mut self) -> String {
        match self.read().await {
            Read::Text(text) => text,
            other => panic!("expected a text frame, got {other:?}"),
        }
    }

    /// Asserts the server closes the connection.
    pub async fn expect_closed(&mut self) {
        loop {
            match self.read().await {
                Read::Closed => return,
                Read::Text(_) | Read::Binary(_) => continue,
            }
        }
    }

    /// Asserts nothing but pings arrives for `window`.
    pub async fn expect_silence(&mut self, window: Duration) {
        let deadline = tokio::time::Instant::now() + window;
        loop {
            match tokio::time::timeout_at(deadline, self.stream.next()).await {
                Err(_) => return,
                Ok(Some(Ok(Message::Text(text)))) if text.as_str() == "2" => self.send("3").await,
                Ok(other) => panic!("expected silence, got {other:?}"),
            }
        }
    }
}

impl Ws {
    /// The next raw text frame without answering pings; `None` once closed.
    pub async fn stream_next_text(&mut self) -> Option<String> {
        loop {
            match tokio::time::timeout(PATIENCE, self.stream.next()).await.expect("a frame in time") {
                Some(Ok(Message::Text(text))) => return Some(text.to_string()),
                Some(Ok(Message::Binary(_) | Message::Ping(_) | Message::Pong(_) | Message::Frame(_))) => {}
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return None,
            }
        }
    }
}

/// The value of one counter at `/metrics`.
pub async fn metric(addr: SocketAddr, name: &str) -> u64 {
    let body = get(addr, "/metrics").await.body;
    body.lines()
        .find_map(|line| line.strip_prefix(name).and_then(|rest| rest.strip_prefix(' ')))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no metric {name} in {body}"))
}

/// The value of a counter with a `plugin` label at `/metrics` (0 when absent).
pub async fn metric_labelled(addr: SocketAddr, name: &str, plugin: &str) -> u64 {
    let body = get(addr, "/metrics").await.body;
    let prefix = format!("{name}{{plugin=\"{plugin}\"}} ");
    body.lines().find_map(|line| line.strip_prefix(&prefix)).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

/// Reports of the reloads a watched server performs.
pub type Reloads = tokio::sync::mpsc::UnboundedReceiver<Result<roomd::app::ReloadReport, String>>;

impl TestServer {
    /// Serves the config file at `path`, watching it and its plugin files for changes.
    pub async fn start_watched(path: &Path) -> (TestServer, Reloads, roomd::reload::Reloader) {
        let config = Config::load(path).expect("valid test config");
        let url_path = config.path.clone();
        let app = std::sync::Arc::new(roomd::app::App::build(config).expect("server builds"));
        let (tx, rx) = tokio::sync::mpsc::unbounded_channel();
        let reloader = roomd::reload::watch(app.clone(), path.to_path_buf(), Some(tx)).expect("watch");
        let mut server = TestServer::serve(app.io().clone(), &url_path).await;
        server.app = Some(app);
        (server, rx, reloader)
    }
}

/// Replaces `path` with `bytes` atomically (write aside, then rename), as a deploy does.
pub fn replace_file(path: &Path, bytes: &[u8]) {
    let aside = path.with_extension("incoming");
    std::fs::write(&aside, bytes).unwrap();
    std::fs::rename(&aside, path).unwrap();
}

/// The next reload report, failing the test if none comes in time.
pub async fn next_reload(reloads: &mut Reloads) -> Result<roomd::app::ReloadReport, String> {
    tokio::time::timeout(Duration::from_secs(20), reloads.recv()).await.expect("a reload in time").expect("watcher alive")
}

impl Ws {
    /// Reads until the server closes and returns the close code it gave, if any.
    pub async fn close_code(&mut self) -> Option<u16> {
        loop {
            match tokio::time::timeout(PATIENCE, self.stream.next()).await.expect("a frame in time") {
                Some(Ok(Message::Close(frame))) => return frame.map(|f| u16::from(f.code)),
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => return None,
            }
        }
    }
}
