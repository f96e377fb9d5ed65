//! Constructors and accessors that make the generated types pleasant to use.

use serde_json::Value;

use crate::{ConnectVerdict, Event, EventVerdict, Handshake, Payload, Rejection, Socket};

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

impl EventVerdict {
    /// Refuse the event with `message`.
    pub fn reject(message: impl Into<String>) -> EventVerdict {
        EventVerdict::Reject(Rejection::new(message))
    }

    /// Answer the event: the client's ack receives `values`.
    pub fn handled(values: &[Value]) -> EventVerdict {
        EventVerdict::Handled(Payload::from_values(values))
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

impl Socket {
    /// The data plugins attached at connect, as JSON (an object).
    pub fn data_json(&self) -> Value {
        serde_json::from_str(&self.data).unwrap_or(Value::Object(Default::default()))
    }
}

impl Event {
    /// An event with these arguments (no attachments).
    pub fn new(name: impl Into<String>, values: &[Value]) -> Event {
        Event { name: name.into(), payload: Payload::from_values(values), wants_ack: false }
    }
}
