//! What a chain of three plugins costs per event, measured end to end through a real
//! server: one WebSocket client pipelines events with acknowledgements to a namespace
//! without plugins and to one with three (each allowing the event), and the difference
//! in time per event is the chain's cost.
//!
//! ```sh
//! make plugins && cargo bench --bench plugin_chain
//! ```

use std::path::Path;
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use roomd::app::App;
use roomd::config::Config;
use tokio_tungstenite::tungstenite::Message;

const EVENTS: u64 = 20_000;
const ROUNDS: usize = 5;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins/dist");
    let (tagger, chaos) = (dist.join("tagger.wasm"), dist.join("chaos.wasm"));
    assert!(tagger.exists() && chaos.exists(), "run `make plugins` first");
    let config = format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"B\"\n\
         [plugins.c]\npath = {chaos:?}\n\
         [[namespace]]\nname = \"/plain\"\nrelay = \"none\"\n\
         [[namespace]]\nname = \"/chain\"\nrelay = \"none\"\nplugins = [\"a\", \"b\", \"c\"]\n"
    );
    let config = Config::parse(&config, Path::new("bench.toml")).unwrap();
    let app = App::build(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = app.io().clone();
    tokio::spawn(roomd::server::serve(listener, "/socket.io/", io, std::future::pending()));

    let mut plain = Vec::new();
    let mut chain = Vec::new();
    for _ in 0..ROUNDS {
        plain.push(run(addr, "/plain").await);
        chain.push(run(addr, "/chain").await);
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap();
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / EVENTS as f64;
    let (p, c) = (per_event(best(&plain)), per_event(best(&chain)));
    println!("events per run: {EVENTS}, best of {ROUNDS} runs");
    println!("no plugins:    {p:.2} µs/event");
    println!("three plugins: {c:.2} µs/event");
    println!("chain cost:    {:.2} µs/event ({:.2} µs per plugin call)", c - p, (c - p) / 3.0);
}

/// Pipelines `EVENTS` acknowledged events to `nsp` and waits for the last ack.
async fn run(addr: std::net::SocketAddr, nsp: &'static str) -> Duration {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.next().await.unwrap().unwrap();
    ws.send(Message::text(format!("40{nsp},"))).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let started = Instant::now();
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for id in 0..EVENTS {
            let text = format!(r#"42{nsp},{id}["chat",{{"text":"hello there, this is a chat message","n":{id}}}]"#);
            sink.feed(Message::text(text)).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    let mut acks = 0;
    while acks < EVENTS {
        match stream.next().await.unwrap().unwrap() {
            Message::Text(text) if text.starts_with("43") => acks += 1,
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    let _ = writer.await;
    elapsed
}
