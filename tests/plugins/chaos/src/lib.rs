//! A plugin that misbehaves on request, to prove the host survives it: the event (or, at
//! connect, the auth field `chaos`) names the failure.

use roomd_plugin_sdk::{ConnectVerdict, Event, EventVerdict, Handshake, Payload, Plugin, Rejection, Socket, export_plugin, host};
use serde_json::{Value, json};

/// See the crate docs.
pub struct Chaos {
    /// Events seen by this instance (reset when the instance is replaced).
    seen: u64,
}

fn misbehave(what: &str) -> Option<EventVerdict> {
    match what {
        "trap" => panic!("chaos: asked to trap"),
        "loop" => loop {
            std::hint::black_box(());
        },
        "grow" => {
            let mut hoard: Vec<Vec<u8>> = Vec::new();
            loop {
                hoard.push(vec![1; 1 << 20]);
                std::hint::black_box(&hoard);
            }
        }
        "bad-modify" => Some(EventVerdict::Modify(Event {
            name: "x".into(),
            payload: Payload { args: "not json".into(), attachments: Vec::new() },
            wants_ack: false,
        })),
        "bad-reject" => Some(EventVerdict::Reject(Rejection { message: "no".into(), data: Some("{oops".into()) })),
        "print" => {
            println!("chaos: stdout is discarded, not fatal");
            eprintln!("chaos: so is stderr");
            None
        }
        _ => None,
    }
}

impl Plugin for Chaos {
    fn init(config: &Value) -> Result<Self, String> {
        if let Some(what) = config["init"].as_str() {
            misbehave(what);
        }
        Ok(Chaos { seen: 0 })
    }

    fn on_connect(&mut self, handshake: &Handshake) -> ConnectVerdict {
        match handshake.auth_json()["chaos"].as_str() {
            Some("bad") => ConnectVerdict::Allow(Some("[1,2]".into())),
            Some(what) => {
                misbehave(what);
                ConnectVerdict::allow()
            }
            None => ConnectVerdict::allow(),
        }
    }

    fn on_event(&mut self, socket: &Socket, event: &Event) -> EventVerdict {
        self.seen += 1;
        match event.name.as_str() {
            "seen" => EventVerdict::handled(&[json!(self.seen)]),
            // Asks the host for more joins in one call than it takes; answers how many it took.
            "join-flood" => {
                let taken = (0..1100).filter(|i| host::join(socket.id(), &format!("flood-{i}")).is_ok()).count();
                EventVerdict::handled(&[json!(taken)])
            }
            "kv-bump" => {
                let n = host::kv::get_json::<u64>("bumps").unwrap_or(0) + 1;
                host::kv::set_json("bumps", &n);
                EventVerdict::handled(&[json!(n)])
            }
            what => misbehave(what).unwrap_or(EventVerdict::Allow),
        }
    }
}

export_plugin!(Chaos);
