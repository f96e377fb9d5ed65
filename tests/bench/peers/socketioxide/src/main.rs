//! socketioxide with the benchmark's behaviour: `join` a room (acknowledged) and
//! `publish` {to, event} arg to a room, the sender left out — what roomd's relay does.

use std::time::Duration;

use hyper_util::rt::TokioIo;
use hyper_util::service::TowerToHyperService;
use serde::Deserialize;
use serde_json::json;
use socketioxide::SocketIo;
use socketioxide::extract::{AckSender, Data, SocketRef};

/// The allocator roomd runs on, so the comparison is of code.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Deserialize)]
struct Envelope {
    to: String,
    event: String,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(3300);
    let (service, io) = SocketIo::builder()
        .ping_interval(Duration::from_secs(60))
        .ping_timeout(Duration::from_secs(60))
        .build_svc();
    io.ns("/", async |socket: SocketRef| {
        socket.on("join", async |socket: SocketRef, Data::<String>(room), ack: AckSender| {
            socket.join(room);
            ack.send(&json!({ "ok": true })).ok();
        });
        // The load generator's message: [envelope, sequence, sent-at, padding].
        socket.on("publish", async |socket: SocketRef, Data::<(Envelope, u64, u64, String)>((envelope, seq, sent, padding))| {
            socket.to(envelope.to).emit(&envelope.event, &(seq, sent, padding)).await.ok();
        });
    });
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("socketioxide listening on 127.0.0.1:{port}");
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let service = TowerToHyperService::new(service.clone());
        tokio::spawn(async move {
            let _ = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades()
                .await;
        });
    }
}
