//! The reference server of the official Socket.IO v5 test suite, on 127.0.0.1:3000:
//! on connect it emits `auth` with the handshake's auth object; `message` is answered with
//! `message-back` and the same arguments; `message-with-ack` is acknowledged with them.
//! Namespaces `/` and `/custom` behave alike.
//!
//! ```sh
//! cargo run --release --example sio_conformance
//! ```

use std::time::Duration;

use roomd::engineio::EngineConfig;
use roomd::socketio::{Event, NamespaceHandler, Payload, Socket, SocketIo, SocketIoConfig};

/// The test suite's expected behaviour.
struct Reference;

impl NamespaceHandler for Reference {
    fn on_connect(&self, socket: &Socket) {
        let auth = Payload::from_json(&format!("[{}]", socket.auth().unwrap_or("{}"))).expect("auth is an object");
        let _ = socket.emit("auth", &auth);
    }

    fn on_event(&self, socket: &Socket, event: Event) {
        match (event.name.as_str(), event.ack) {
            ("message", _) => drop(socket.emit("message-back", &event.payload)),
            ("message-with-ack", Some(id)) => drop(socket.ack(id, &event.payload)),
            _ => {}
        }
    }
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let io = SocketIo::builder()
        .engine(EngineConfig {
            ping_interval: Duration::from_millis(300),
            ping_timeout: Duration::from_millis(200),
            max_payload: 1_000_000,
            ..EngineConfig::default()
        })
        .config(SocketIoConfig { connect_timeout: Duration::from_millis(1000), ..SocketIoConfig::default() })
        .namespace("/", Reference)
        .namespace("/custom", Reference)
        .build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("Socket.IO conformance server on http://127.0.0.1:3000/socket.io/");
    roomd::server::serve(listener, "/socket.io/", io, roomd::server::shutdown_signal()).await
}
