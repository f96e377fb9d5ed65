//! The Socket.IO v5 test suite's reference behaviour as a plugin: `auth` is emitted on
//! connect with the handshake's auth object, `message` is answered with `message-back`,
//! `message-with-ack` is acknowledged with its own arguments. Binary passes through.

use roomd_plugin_sdk::{ConnectVerdict, Event, EventVerdict, Handshake, Payload, Plugin, Socket, export_plugin, host};
use serde_json::{Value, json};

/// See the crate docs.
pub struct Reference;

impl Plugin for Reference {
    fn init(_config: &Value) -> Result<Self, String> {
        Ok(Reference)
    }

    fn on_connect(&mut self, handshake: &Handshake) -> ConnectVerdict {
        ConnectVerdict::allow_with(&json!({ "auth": handshake.auth_json() }))
    }

    fn on_connected(&mut self, socket: &Socket) {
        let auth = socket.data_json()["auth"].clone();
        let _ = host::emit_to_socket(socket.id(), "auth", &Payload::from_values(&[auth]));
    }

    fn on_event(&mut self, socket: &Socket, event: &Event) -> EventVerdict {
        match event.name.as_str() {
            "message" => {
                let _ = host::emit_to_socket(socket.id(), "message-back", &event.payload);
                EventVerdict::handled(&[])
            }
            "message-with-ack" => EventVerdict::Handled(event.payload.clone()),
            _ => EventVerdict::Allow,
        }
    }
}

export_plugin!(Reference);
