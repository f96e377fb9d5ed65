//! The ceiling for roomd's benchmarks: WebSocket and rooms, nothing else. A client sends
//! `join:ROOM`; every later text frame is queued, as the same shared bytes, to every other
//! client in that room. Per-client queues are unbounded: this is a measuring stick, not a
//! server.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use futures_util::{SinkExt, StreamExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// Rooms: name → (client id → queue).
/// The allocator roomd runs on, so the comparison is of code.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

type Rooms = Arc<Mutex<HashMap<String, HashMap<u64, mpsc::UnboundedSender<Utf8Bytes>>>>>;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3200);
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("raw broadcaster listening on 127.0.0.1:{port}");
    let rooms: Rooms = Arc::default();
    let mut next_id = 0u64;
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        next_id += 1;
        tokio::spawn(client(stream, next_id, rooms.clone()));
    }
}

async fn client(stream: tokio::net::TcpStream, id: u64, rooms: Rooms) {
    // tungstenite zero-fills its whole read buffer before every read; its 128 KiB default
    // would handicap the ceiling on every message a client sends.
    let config = WebSocketConfig::default().read_buffer_size(16 * 1024);
    let Ok(ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else { return };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<Utf8Bytes>();
    let writer = tokio::spawn(async move {
        while let Some(text) = rx.recv().await {
            if sink.feed(Message::Text(text)).await.is_err() {
                return;
            }
            while let Ok(more) = rx.try_recv() {
                if sink.feed(Message::Text(more)).await.is_err() {
                    return;
                }
            }
            if sink.flush().await.is_err() {
                return;
            }
        }
    });
    let mut room: Option<String> = None;
    while let Some(Ok(message)) = source.next().await {
        let Message::Text(text) = message else { continue };
        if let Some(name) = text.as_str().strip_prefix("join:") {
            rooms.lock().unwrap().entry(name.to_owned()).or_default().insert(id, tx.clone());
            room = Some(name.to_owned());
            let _ = tx.send(Utf8Bytes::from_static("joined"));
            continue;
        }
        let Some(name) = &room else { continue };
        let peers: Vec<_> = rooms.lock().unwrap()[name].iter().filter(|(peer, _)| **peer != id).map(|(_, q)| q.clone()).collect();
        for peer in peers {
            let _ = peer.send(text.clone());
        }
    }
    if let Some(name) = room
        && let Some(members) = rooms.lock().unwrap().get_mut(&name)
    {
        members.remove(&id);
    }
    writer.abort();
}
