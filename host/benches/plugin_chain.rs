//! What a chain of plugins costs per event, measured end to end through a real server:
//! one WebSocket client pipelines `publish` events with acknowledgements (the load
//! generator's chat message: a room, an event name, two numbers and 64 characters of
//! ordinary text) to a namespace without plugins, to one with three test plugins that
//! each allow (or tag) the event, and to one with the chat chain — auth → profanity →
//! presence. The difference in time per event is the chain's cost.
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

/// Signs the `/real` namespace's tokens (HS256); test-only.
const SECRET: &str = "plugin-chain-bench-secret";
/// `{"sub":"bench","name":"Bench","exp":4102444800}` signed with [`SECRET`].
const TOKEN: &str = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJiZW5jaCIsIm5hbWUiOiJCZW5jaCIsImV4cCI6NDEwMjQ0NDgwMH0.hUri4gQPdheadQOHno_PKCwzxFlwf4UiNTRu9gBzBnI";

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let (tests, dist) = (root.join("tests/plugins/dist"), root.join("plugins/dist"));
    let (tagger, chaos) = (tests.join("tagger.wasm"), tests.join("chaos.wasm"));
    let [auth, profanity, presence] = ["auth", "profanity", "presence"].map(|p| dist.join(format!("{p}.wasm")));
    assert!([&tagger, &chaos, &auth, &profanity, &presence].iter().all(|p| p.exists()), "run `make plugins` first");
    let config = format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"B\"\n\
         [plugins.c]\npath = {chaos:?}\n\
         [plugins.auth]\npath = {auth:?}\n[plugins.auth.config]\nsecret = {SECRET:?}\n\
         [plugins.profanity]\npath = {profanity:?}\n\
         [plugins.presence]\npath = {presence:?}\n\
         [[namespace]]\nname = \"/plain\"\nrelay = \"none\"\n\
         [[namespace]]\nname = \"/chain\"\nrelay = \"none\"\nplugins = [\"a\", \"b\", \"c\"]\n\
         [[namespace]]\nname = \"/real\"\nrelay = \"none\"\nplugins = [\"auth\", \"profanity\", \"presence\"]\n"
    );
    let config = Config::parse(&config, Path::new("bench.toml")).unwrap();
    let app = App::build(config).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let io = app.io().clone();
    tokio::spawn(roomd::server::serve(listener, "/socket.io/", io, std::future::pending()));

    let (mut plain, mut chain, mut real) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..ROUNDS {
        plain.push(run(addr, "/plain").await);
        chain.push(run(addr, "/chain").await);
        real.push(run(addr, "/real").await);
    }
    let best = |v: &[Duration]| v.iter().min().copied().unwrap();
    let per_event = |d: Duration| d.as_secs_f64() * 1e6 / EVENTS as f64;
    let (p, c, r) = (per_event(best(&plain)), per_event(best(&chain)), per_event(best(&real)));
    println!("events per run: {EVENTS}, best of {ROUNDS} runs");
    println!("no plugins:                 {p:.2} µs/event");
    println!("three test plugins:         {c:.2} µs/event (chain cost {:.2} µs, {:.2} µs per plugin)", c - p, (c - p) / 3.0);
    println!("auth → profanity → presence: {r:.2} µs/event (chain cost {:.2} µs)", r - p);
}

/// Pipelines `EVENTS` acknowledged events to `nsp` and waits for the last ack.
async fn run(addr: std::net::SocketAddr, nsp: &'static str) -> Duration {
    let url = format!("ws://{addr}/socket.io/?EIO=4&transport=websocket");
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    ws.next().await.unwrap().unwrap();
    let auth = if nsp == "/real" { format!(r#"{{"token":"{TOKEN}"}}"#) } else { String::new() };
    ws.send(Message::text(format!("40{nsp},{auth}"))).await.unwrap();
    loop {
        // The namespace's CONNECT answer (presence may send its state first).
        let text = ws.next().await.unwrap().unwrap().into_text().unwrap();
        assert!(!text.starts_with("44"), "refused: {text}");
        if text.starts_with("40") {
            break;
        }
    }
    let started = Instant::now();
    let (mut sink, mut stream) = ws.split();
    let writer = tokio::spawn(async move {
        for id in 0..EVENTS {
            let text = format!(
                r#"42{nsp},{id}["publish",{{"to":"room-1","event":"m"}},{id},1764500000000000,"lorem ipsum dolor sit amet consectetur adipiscing elit lorem ipsu"]"#
            );
            sink.feed(Message::text(text)).await.unwrap();
        }
        sink.flush().await.unwrap();
        sink
    });
    let mut acks = 0;
    while acks < EVENTS {
        match stream.next().await.unwrap().unwrap() {
            Message::Text(text) if text.starts_with("43") => {
                assert!(text.contains(r#""ok":true"#), "refused: {text}");
                acks += 1;
            }
            _ => {}
        }
    }
    let elapsed = started.elapsed();
    let _ = writer.await;
    elapsed
}
