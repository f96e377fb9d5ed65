//! A plugin whose every action is visible, to pin the chain: it tags what passes through
//! with its configured `tag`, and performs host actions on request. Config may narrow
//! what it is called for: `only_events` (event names) and `hooks` (hook names).

use roomd_plugin_sdk::{
    ConnectVerdict, Event, EventVerdict, Handshake, Hooks, Interests, Payload, Plugin, Socket, export_plugin, host,
};
use serde_json::{Value, json};

/// See the crate docs.
pub struct Tagger {
    tag: String,
    interests: Interests,
}

impl Tagger {
    fn first_arg(event: &Event) -> Value {
        event.payload.values().into_iter().next().unwrap_or(Value::Null)
    }
}

impl Plugin for Tagger {
    fn init(config: &Value) -> Result<Self, String> {
        let tag = config["tag"].as_str().ok_or("config needs a string `tag`")?;
        let mut interests = Interests::everything();
        if let Some(names) = config["only_events"].as_array() {
            interests = interests.only_events(names.iter().filter_map(Value::as_str));
        }
        if let Some(names) = config["hooks"].as_array() {
            let mut hooks = Hooks::empty();
            for name in names.iter().filter_map(Value::as_str) {
                hooks = hooks
                    | match name {
                        "connect" => Hooks::CONNECT,
                        "connected" => Hooks::CONNECTED,
                        "room-joined" => Hooks::ROOM_JOINED,
                        "room-left" => Hooks::ROOM_LEFT,
                        "disconnect" => Hooks::DISCONNECT,
                        other => return Err(format!("unknown hook {other:?}")),
                    };
            }
            interests = interests.hooks(hooks);
        }
        Ok(Tagger { tag: tag.to_owned(), interests })
    }

    fn interests(&self) -> Interests {
        self.interests.clone()
    }

    fn on_connect(&mut self, handshake: &Handshake) -> ConnectVerdict {
        let auth = handshake.auth_json();
        if auth["deny"].as_str() == Some(self.tag.as_str()) {
            return ConnectVerdict::reject_with(format!("denied by {}", self.tag), &json!({ "by": self.tag }));
        }
        if let Some(name) = auth["echo_header"].as_str() {
            // Shows what the plugin sees of the connection's first request.
            return ConnectVerdict::allow_with(&json!({ "header": handshake.header(name), "query": handshake.query }));
        }
        ConnectVerdict::allow_with(&json!({ format!("tag_{}", self.tag): true }))
    }

    fn on_event(&mut self, socket: &Socket, event: &Event) -> EventVerdict {
        let arg = Self::first_arg(event);
        match event.name.as_str() {
            "say" => {
                let mut values = event.payload.values();
                if let Some(Value::String(text)) = values.first_mut() {
                    text.push_str(&self.tag);
                }
                EventVerdict::Modify(Event { name: event.name.clone(), payload: Payload::from_values(&values), wants_ack: event.wants_ack })
            }
            "rename" => EventVerdict::Modify(Event { name: format!("renamed-by-{}", self.tag), payload: event.payload.clone(), wants_ack: false }),
            "whoami" => EventVerdict::handled(&[socket.data_json()]),
            "reject-me" => EventVerdict::Reject(roomd_plugin_sdk::Rejection::with_data(format!("rejected by {}", self.tag), &json!({ "by": self.tag }))),
            "kick-verdict" => EventVerdict::Disconnect,
            "plugin-join" => EventVerdict::handled(&[json!(host::join(socket.id(), arg.as_str().unwrap_or("")).is_ok())]),
            "plugin-leave" => EventVerdict::handled(&[json!(host::leave(socket.id(), arg.as_str().unwrap_or("")).is_ok())]),
            "plugin-kick" => EventVerdict::handled(&[json!(host::disconnect(socket.id()).is_ok())]),
            "plugin-emit" => {
                let room = arg.as_str().unwrap_or("");
                let reached = host::emit(&[room], &[], "from-plugin", &Payload::from_values(&[json!(self.tag)]));
                EventVerdict::handled(&[json!(reached.ok())])
            }
            "rooms" => EventVerdict::handled(&[json!(host::rooms_of(socket.id()))]),
            // `["skip-me", tag]`: the tagger named stops seeing this socket's events.
            "skip-me" if arg.as_str() == Some(self.tag.as_str()) => {
                let _ = host::skip_events(socket.id());
                EventVerdict::Allow
            }
            _ => EventVerdict::Allow,
        }
    }

    fn on_room_joined(&mut self, socket: &Socket, room: &str) {
        let _ = host::emit_to_socket(socket.id(), "joined", &Payload::from_values(&[json!(room), json!(self.tag)]));
    }

    fn on_room_left(&mut self, socket: &Socket, room: &str) {
        let _ = host::emit_to_socket(socket.id(), "left", &Payload::from_values(&[json!(room), json!(self.tag)]));
    }
}

export_plugin!(Tagger);

#[cfg(test)]
mod tests {
    use super::*;

    fn socket() -> Socket<'static> {
        Socket::new("s1", "/", "{}")
    }

    #[test]
    fn tags_what_it_passes_on() {
        let mut tagger = Tagger::init(&json!({ "tag": "A" })).unwrap();
        let verdict = tagger.on_event(&socket(), &Event::new("say", &[json!("hi")]));
        let EventVerdict::Modify(event) = verdict else { panic!("modified") };
        assert_eq!(event.payload.values(), vec![json!("hiA")]);
    }

    #[test]
    fn host_calls_reach_the_native_stand_in() {
        roomd_plugin_sdk::testing::reset();
        roomd_plugin_sdk::testing::set_rooms("s1", &["s1"]);
        let mut tagger = Tagger::init(&json!({ "tag": "B" })).unwrap();
        tagger.on_event(&socket(), &Event::new("plugin-join", &[json!("lobby")]));
        assert_eq!(
            roomd_plugin_sdk::testing::take_actions(),
            vec![roomd_plugin_sdk::testing::Action::Join("s1".into(), "lobby".into())]
        );
        tagger.on_room_joined(&socket(), "lobby");
        let sent = roomd_plugin_sdk::testing::take_emitted();
        assert_eq!(sent[0].event, "joined");
        assert_eq!(sent[0].args, vec![json!("lobby"), json!("B")]);
    }
}
