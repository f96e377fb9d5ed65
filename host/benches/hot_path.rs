//! Micro-benchmarks of the hot path, so regressions show before the end-to-end run:
//! packet codecs, broadcast resolution, and one warm plugin call.
//!
//! ```sh
//! make plugins && cargo bench --bench hot_path
//! ```

use std::path::Path;
use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use roomd::adapter::{Adapter, BroadcastOptions, MemoryAdapter, Room};
use roomd::engineio::packet as eio;
use roomd::plugin::kv::MemoryKv;
use roomd::plugin::{FailurePolicy, PluginSlot, PluginSpec, SocketInfo, WitBurst, WitBurstEvent, WitEvent};
use roomd::sid::Sid;
use roomd::socketio::{Namespace, Payload, packet as sio};

const EVENT: &str = r#"2["chat",{"room":"lobby","from":"ada","text":"hello there, this is a chat message of ordinary length"}]"#;

fn codecs(c: &mut Criterion) {
    c.bench_function("sio decode event", |b| b.iter(|| sio::decode(std::hint::black_box(EVENT), 10).unwrap()));
    let payload = Payload::from_json(r#"[{"room":"lobby","from":"ada","text":"hello there, this is a chat message of ordinary length"}]"#).unwrap();
    c.bench_function("sio encode event", |b| b.iter(|| sio::encode_event("/chat", "chat", std::hint::black_box(&payload), None)));
    let polling = "4".to_owned() + EVENT + "\x1e3\x1e4" + EVENT;
    c.bench_function("eio decode payload (3 packets)", |b| b.iter(|| eio::decode_payload(std::hint::black_box(&polling)).unwrap()));
}

fn broadcast(c: &mut Criterion) {
    let adapter = MemoryAdapter::new();
    let sids: Vec<Sid> = (0..1000).map(|_| Sid::random()).collect();
    for (i, sid) in sids.iter().enumerate() {
        adapter.join(*sid, Room::from(sid.as_str()));
        adapter.join(*sid, Room::from("all"));
        if i % 2 == 0 {
            adapter.join(*sid, Room::from("even"));
        }
        if i % 10 == 0 {
            adapter.join(*sid, Room::from("muted"));
        }
    }
    let one = BroadcastOptions { rooms: vec![Room::from("all")], except_sid: Some(sids[0]), ..Default::default() };
    c.bench_function("recipients: one room of 1000", |b| b.iter(|| adapter.recipients(std::hint::black_box(&one))));
    let union = BroadcastOptions { rooms: vec![Room::from("all"), Room::from("even")], except: vec![Room::from("muted")], except_sid: None };
    c.bench_function("recipients: union of 2 rooms minus except (1000)", |b| b.iter(|| adapter.recipients(std::hint::black_box(&union))));
}

fn plugin_call(c: &mut Criterion) {
    let dist = Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/plugins/dist");
    if !dist.join("tagger.wasm").exists() || !dist.join("chaos.wasm").exists() {
        eprintln!("skipping the plugin call benchmarks: run `make plugins` first");
        return;
    }
    let slot = |name: &str, config: &str| {
        let bundled = Path::new(env!("CARGO_MANIFEST_DIR")).join("../plugins/dist");
        let path = [&dist, &bundled].map(|d| d.join(format!("{name}.wasm"))).into_iter().find(|p| p.exists()).unwrap();
        let spec = Arc::new(PluginSpec {
            name: Arc::from(name),
            path,
            config: config.into(),
            on_error: FailurePolicy::FailClosed,
            timeout: roomd::plugin::DEFAULT_TIMEOUT,
            max_memory: roomd::plugin::DEFAULT_MAX_MEMORY,
        });
        let code = roomd::plugin::compile(&spec).unwrap();
        PluginSlot::new(spec, code, Arc::new(MemoryKv::default()), "/").unwrap()
    };
    let namespace = Namespace::standalone("/");
    let socket = SocketInfo { id: Sid::random(), data: Arc::from(r#"{"user":{"id":"ada"}}"#) };
    let event = WitEvent {
        text: r#"["chat",{"text":"hello there, this is a chat message of ordinary length"}]"#.into(),
        attachments: None,
        wants_ack: false,
    };
    // chaos allows "chat" after a string match: the cost of the call itself.
    let chaos = slot("chaos", "{}");
    c.bench_function("plugin on_event (warm instance, no-op)", |b| b.iter(|| chaos.on_event(&namespace, &socket, &event).unwrap()));
    // tagger parses the arguments as JSON values first.
    let tagger = slot("tagger", r#"{"tag":"A"}"#);
    c.bench_function("plugin on_event (warm instance, parses the arguments)", |b| {
        b.iter(|| tagger.on_event(&namespace, &socket, &event).unwrap())
    });
    // The chat chain's calls on a chat message (the load generator's): auth's room policy
    // for a user limited to some rooms (one allowed every room is skipped after its first
    // message), and the profanity filter.
    let socket = SocketInfo {
        data: Arc::from(r#"{"user":{"id":"bench","name":null},"claims":{},"room_patterns":["room-*","dm-{user}-*"]}"#),
        ..socket
    };
    let publish = WitEvent {
        text: r#"["publish",{"to":"room-1","event":"m"},1,1764500000000000,"lorem ipsum dolor sit amet consectetur adipiscing elit lorem ipsu"]"#
            .into(),
        attachments: None,
        wants_ack: false,
    };
    let auth = slot("auth", r#"{"secret":"bench"}"#);
    c.bench_function("plugin on_event: auth, a publish checked against room patterns", |b| b.iter(|| auth.on_event(&namespace, &socket, &publish).unwrap()));
    let profanity = slot("profanity", "{}");
    c.bench_function("plugin on_event: profanity, a clean publish", |b| {
        b.iter(|| profanity.on_event(&namespace, &socket, &publish).unwrap())
    });
    // Under load a chat client's events arrive about eleven at a time (counted in the
    // chat benchmark) and go to a plugin in one call.
    let len = publish.text.len() as u32;
    let burst = WitBurst {
        texts: publish.text.repeat(11),
        events: (1..=11).map(|i| WitBurstEvent { end: i * len, attachments: None, wants_ack: false }).collect(),
    };
    c.bench_function("plugin on_events: profanity, 11 clean publishes in one call", |b| {
        b.iter(|| profanity.on_events(&namespace, &socket, &burst).unwrap())
    });
    c.bench_function("plugin on_events (warm instance, no-op), 11 events in one call", |b| {
        b.iter(|| chaos.on_events(&namespace, &socket, &burst).unwrap())
    });
}

criterion_group!(benches, codecs, broadcast, plugin_call);
criterion_main!(benches);
