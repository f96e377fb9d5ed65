//! The reference server of the official Engine.IO v4 test suite: every message is echoed
//! back, on path `/engine.io/`, at 127.0.0.1:3000.
//!
//! ```sh
//! cargo run --release --example eio_conformance
//! ```

use std::sync::Arc;
use std::time::Duration;

use roomd::engineio::{CloseReason, Engine, EngineConfig, Frame, Handler, Message, Outgoing, Session};

/// Echoes every message to its sender.
struct Echo;

impl Handler for Echo {
    type Data = ();

    fn new_data(&self) {}

    fn on_open(&self, _session: &Arc<Session<()>>) {}

    fn on_message(&self, session: &Arc<Session<()>>, message: Message<'_>) {
        let frame = match message {
            Message::Text(text) => Frame::message(text),
            Message::Binary(bytes) => Frame::Binary(bytes),
        };
        let _ = session.send(Outgoing::One(frame));
    }

    fn on_close(&self, _session: &Arc<Session<()>>, _reason: CloseReason) {}
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    tracing_subscriber::fmt().with_env_filter(tracing_subscriber::EnvFilter::from_default_env()).init();
    let config = EngineConfig {
        ping_interval: Duration::from_millis(300),
        ping_timeout: Duration::from_millis(200),
        max_payload: 1_000_000,
        ..EngineConfig::default()
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
    println!("Engine.IO conformance server on http://127.0.0.1:3000/engine.io/");
    roomd::server::serve(listener, "/engine.io/", Engine::new(config, Echo), roomd::server::shutdown_signal()).await
}
