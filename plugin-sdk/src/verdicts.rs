//! Constructors and accessors that make the generated types pleasant to use.

use serde_json::Value;

use crate::{ConnectVerdict, EventFilter, Handshake, Hooks, Interests, Payload, Rejection};

impl Payload {
    /// Arguments from JSON values, without attachments.
    pub fn from_values(values: &[Value]) -> Payload {
        Payload { args: Value::Array(values.to_vec()).to_string(), attachments: Vec::new() }
    }

    /// No arguments.
    pub fn empty() -> Payload {
        Payload { args: String::from("[]"), attachments: Vec::new() }
    }

    /// The arguments as JSON values (placeholders stay placeholders); empty if the text
    /// is not a JSON array.
    pub fn values(&self) -> Vec<Value> {
        serde_json::from_str(&self.args).unwrap_or_default()
    }

    /// The first argument as a `T`, the rest skipped without being built into values;
    /// `None` if there is none or it is not a `T`. Cheaper than [`values`](Self::values)
    /// for a plugin that reads one argument of every event.
    pub fn first<T: serde::de::DeserializeOwned>(&self) -> Option<T> {
        struct First<T>(std::marker::PhantomData<T>);

        impl<'de, T: serde::Deserialize<'de>> serde::de::Visitor<'de> for First<T> {
            type Value = Option<T>;

            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("an array of arguments")
            }

            fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Option<T>, A::Error> {
                let first = seq.next_element::<T>()?;
                while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
                Ok(first)
            }
        }

        let mut de = serde_json::Deserializer::from_str(&self.args);
        serde::Deserializer::deserialize_seq(&mut de, First(std::marker::PhantomData)).ok().flatten()
    }
}

impl Rejection {
    /// A rejection with a message only.
    pub fn new(message: impl Into<String>) -> Rejection {
        Rejection { message: message.into(), data: None }
    }

    /// A rejection with a message and data the client can act on.
    pub fn with_data(message: impl Into<String>, data: &Value) -> Rejection {
        Rejection { message: message.into(), data: Some(data.to_string()) }
    }
}

impl ConnectVerdict {
    /// Admit the client.
    pub fn allow() -> ConnectVerdict {
        ConnectVerdict::Allow(None)
    }

    /// Admit the client and attach `data` (a JSON object) to its socket.
    pub fn allow_with(data: &Value) -> ConnectVerdict {
        ConnectVerdict::Allow(Some(data.to_string()))
    }

    /// Refuse the client with `message`.
    pub fn reject(message: impl Into<String>) -> ConnectVerdict {
        ConnectVerdict::Reject(Rejection::new(message))
    }

    /// Refuse the client with `message` and `data` (seen as `err.data`).
    pub fn reject_with(message: impl Into<String>, data: &Value) -> ConnectVerdict {
        ConnectVerdict::Reject(Rejection::with_data(message, data))
    }
}

impl Handshake {
    /// The auth object (`{}` when the client sent none).
    pub fn auth_json(&self) -> Value {
        serde_json::from_str(&self.auth).unwrap_or(Value::Object(Default::default()))
    }

    /// A header by lower-case name.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

impl Interests {
    /// Every hook and every event: what a plugin gets unless it says otherwise.
    pub fn everything() -> Interests {
        let hooks = Hooks::CONNECT | Hooks::CONNECTED | Hooks::ROOM_JOINED | Hooks::ROOM_LEFT | Hooks::DISCONNECT;
        Interests { hooks, events: EventFilter::All }
    }

    /// These hooks only (`on-event` is governed by [`events`](Self::events)).
    pub fn hooks(self, hooks: Hooks) -> Interests {
        Interests { hooks, ..self }
    }

    /// `on-event` for the events named, only.
    pub fn only_events<S: Into<String>>(self, names: impl IntoIterator<Item = S>) -> Interests {
        Interests { events: EventFilter::Only(names.into_iter().map(Into::into).collect()), ..self }
    }

    /// `on-event` for every event except the ones named.
    pub fn events_except<S: Into<String>>(self, names: impl IntoIterator<Item = S>) -> Interests {
        Interests { events: EventFilter::AllExcept(names.into_iter().map(Into::into).collect()), ..self }
    }

    /// Whether the hooks in `hook` are wanted.
    pub fn wants(&self, hook: Hooks) -> bool {
        (self.hooks & hook).bits() == hook.bits()
    }

    /// Whether `on-event` is wanted for the event `name`.
    pub fn wants_event(&self, name: &str) -> bool {
        match &self.events {
            EventFilter::All => true,
            EventFilter::Only(names) => names.iter().any(|n| n == name),
            EventFilter::AllExcept(names) => !names.iter().any(|n| n == name),
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn first_reads_one_argument_and_skips_the_rest() {
        let payload = Payload { args: r#"[{"to":"room-1"},7,"text",[1,{"a":null}]]"#.into(), attachments: Vec::new() };
        assert_eq!(payload.first::<Value>(), Some(json!({ "to": "room-1" })));
        assert_eq!(payload.first::<u32>(), None, "not a number");
        let empty = Payload::empty();
        assert_eq!(empty.first::<Value>(), None);
        let broken = Payload { args: "[1,".into(), attachments: Vec::new() };
        assert_eq!(broken.first::<u32>(), None, "a truncated array is not read halfway");
    }

    #[test]
    fn interests_filter_events() {
        let all = Interests::everything();
        assert!(all.wants_event("anything") && all.wants(Hooks::CONNECT | Hooks::DISCONNECT));
        let only = Interests::everything().hooks(Hooks::CONNECT).only_events(["join", "publish"]);
        assert!(only.wants_event("publish") && !only.wants_event("chat"));
        assert!(only.wants(Hooks::CONNECT) && !only.wants(Hooks::DISCONNECT));
        let except = Interests::everything().events_except(["join"]);
        assert!(!except.wants_event("join") && except.wants_event("chat"));
    }
}
