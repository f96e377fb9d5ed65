//! The standalone server's behaviour: what a client can do without any server code.
//!
//! Per namespace, a [`RoomPolicy`] from `config.toml` decides:
//!
//! - `join` / `leave`: a client asks to enter or leave rooms (one name or a list), and is
//!   answered through the ack: `{"ok":true,"rooms":[...]}` or `{"ok":false,"error":"..."}`.
//! - `publish`: a client addresses an event to a set of rooms,
//!   `emit("publish", {to, except?, event}, ...args)`; it reaches every socket in any of
//!   the `to` rooms once, minus the `except` rooms, minus the sender.
//! - every other event is relayed according to [`RelayMode`]: to the whole namespace, to
//!   the rooms the sender is in, or nowhere. The sender never receives its own event.
//!
//! Arguments, binary attachments included, are relayed exactly as the client sent them.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::adapter::Room;
use crate::sid::Sid;
use crate::socketio::{Event, NamespaceHandler, Payload, Socket};

/// Longest room name a client may use, in bytes.
pub const MAX_ROOM_NAME: usize = 256;

/// Event names the relay reserves for room requests.
pub const JOIN: &str = "join";
/// See [`JOIN`].
pub const LEAVE: &str = "leave";
/// See [`JOIN`].
pub const PUBLISH: &str = "publish";

/// Where a client's ordinary events go.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RelayMode {
    /// To every other socket of the namespace.
    #[default]
    Namespace,
    /// To the other sockets in the rooms the sender has joined.
    Rooms,
    /// Nowhere; only `publish` sends.
    None,
}

/// What clients of one namespace may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoomPolicy {
    /// Where ordinary events go.
    pub relay: RelayMode,
    /// Room-name patterns (`*` matches any run of characters) a client may join.
    pub join: Vec<String>,
    /// Room-name patterns a client may address with `publish`.
    pub publish: Vec<String>,
    /// Most rooms a socket may be in, besides its own.
    pub max_rooms: usize,
}

impl Default for RoomPolicy {
    fn default() -> RoomPolicy {
        RoomPolicy { relay: RelayMode::Namespace, join: vec!["*".into()], publish: vec!["*".into()], max_rooms: 64 }
    }
}

/// The namespace handler of the standalone server.
#[derive(Debug)]
pub struct Relay {
    policy: RoomPolicy,
}

/// A refused room request; its text is what the client reads in `error`.
type Refusal = String;

impl Relay {
    /// A relay applying `policy`.
    pub fn new(policy: RoomPolicy) -> Relay {
        Relay { policy }
    }

    fn join(&self, socket: &Socket, payload: &Payload) -> Result<Value, Refusal> {
        let mut rooms = room_list(payload)?;
        // A room named twice is joined once, and counts once against `max_rooms`.
        let mut seen = std::collections::HashSet::new();
        rooms.retain(|room| seen.insert(room.clone()));
        let own = socket.id();
        let current = socket.rooms().len().saturating_sub(1);
        let mut added = 0;
        for room in &rooms {
            check_name(room)?;
            if !matches_any(&self.policy.join, room) {
                return Err(format!("joining room {room:?} is not allowed"));
            }
            // Another socket's own room would let this client read its private messages.
            if let Ok(sid) = room.parse::<Sid>()
                && sid != own
                && socket.namespace().socket(sid).is_some()
            {
                return Err(format!("room {room:?} is another socket's own room"));
            }
            let already = socket.namespace().adapter().sockets_in(room).contains(&own);
            if !already && room != own.as_str() {
                added += 1;
            }
        }
        if current + added > self.policy.max_rooms {
            return Err(format!("too many rooms: at most {} besides the socket's own", self.policy.max_rooms));
        }
        for room in rooms {
            socket.join(Room::from(room));
        }
        Ok(self.rooms_reply(socket))
    }

    fn leave(&self, socket: &Socket, payload: &Payload) -> Result<Value, Refusal> {
        let rooms = room_list(payload)?;
        if rooms.iter().any(|room| room == socket.id().as_str()) {
            return Err("a socket cannot leave its own room".into());
        }
        for room in &rooms {
            socket.leave(room);
        }
        Ok(self.rooms_reply(socket))
    }

    fn publish(&self, socket: &Socket, payload: &Payload) -> Result<Value, Refusal> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Envelope {
            to: OneOrMany,
            #[serde(default)]
            except: Option<OneOrMany>,
            event: String,
        }
        let usage = "publish expects {to, except?, event} followed by the event's arguments";
        let (first, args) = payload.split_first().ok_or(usage)?;
        let envelope: Envelope = serde_json::from_str(first).map_err(|_| usage)?;
        if crate::socketio::packet::is_reserved_event(&envelope.event) {
            return Err(format!("event name {:?} is reserved", envelope.event));
        }
        let to = envelope.to.into_vec();
        if to.is_empty() {
            return Err("publish needs at least one room in `to`".into());
        }
        for room in &to {
            check_name(room)?;
            if !matches_any(&self.policy.publish, room) {
                return Err(format!("publishing to room {room:?} is not allowed"));
            }
        }
        let mut broadcast = socket.broadcast();
        for room in to {
            broadcast = broadcast.to(room);
        }
        for room in envelope.except.map(OneOrMany::into_vec).unwrap_or_default() {
            broadcast = broadcast.except(room);
        }
        broadcast.emit(&envelope.event, &args);
        Ok(json!({ "ok": true }))
    }

    fn relay(&self, socket: &Socket, event: &Event) -> Result<Value, Refusal> {
        match self.policy.relay {
            RelayMode::None => return Err("this namespace does not relay events; use publish".into()),
            RelayMode::Namespace => {
                socket.broadcast().emit(&event.name, &event.payload);
            }
            RelayMode::Rooms => {
                let own = socket.id();
                let mut broadcast = socket.broadcast();
                let mut any = false;
                for room in socket.rooms().into_iter().filter(|room| &**room != own.as_str()) {
                    broadcast = broadcast.to(room);
                    any = true;
                }
                if any {
                    broadcast.emit(&event.name, &event.payload);
                }
            }
        }
        Ok(json!({ "ok": true }))
    }

    fn rooms_reply(&self, socket: &Socket) -> Value {
        let own = socket.id();
        let mut rooms: Vec<String> =
            socket.rooms().iter().filter(|room| &***room != own.as_str()).map(|room| room.to_string()).collect();
        rooms.sort();
        json!({ "ok": true, "rooms": rooms })
    }
}

impl NamespaceHandler for Relay {
    fn on_event(&self, socket: &Socket, event: Event) {
        let outcome = match event.name.as_str() {
            JOIN => self.join(socket, &event.payload),
            LEAVE => self.leave(socket, &event.payload),
            PUBLISH => self.publish(socket, &event.payload),
            _ => self.relay(socket, &event),
        };
        let reply = match outcome {
            Ok(reply) => reply,
            Err(error) => {
                tracing::debug!(socket = %socket.id(), event = %event.name, %error, "request refused");
                json!({ "ok": false, "error": error })
            }
        };
        if let Some(id) = event.ack {
            let _ = socket.ack(id, &Payload::from_values(&[reply]));
        }
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

impl OneOrMany {
    fn into_vec(self) -> Vec<String> {
        match self {
            OneOrMany::One(one) => vec![one],
            OneOrMany::Many(many) => many,
        }
    }
}

/// The room names of a `join` or `leave`: its first argument, a name or a list.
fn room_list(payload: &Payload) -> Result<Vec<String>, Refusal> {
    let refusal = || Refusal::from("expected a room name or a list of room names");
    let first = payload.raw_args().first().map(|raw| raw.get().to_owned()).ok_or_else(refusal)?;
    let rooms = serde_json::from_str::<OneOrMany>(&first).map_err(|_| refusal())?.into_vec();
    if rooms.is_empty() {
        return Err(refusal());
    }
    Ok(rooms)
}

fn check_name(room: &str) -> Result<(), Refusal> {
    if room.is_empty() || room.len() > MAX_ROOM_NAME {
        return Err(format!("room names must be 1 to {MAX_ROOM_NAME} bytes"));
    }
    Ok(())
}

fn matches_any(patterns: &[String], room: &str) -> bool {
    patterns.iter().any(|pattern| glob(pattern, room))
}

/// Whether `text` matches `pattern`, in which `*` stands for any run of characters
/// (including none) and everything else for itself.
pub fn glob(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0, 0);
    let mut backtrack: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && p[pi] == b'*' {
            backtrack = Some((pi, ti));
            pi += 1;
        } else if pi < p.len() && p[pi] == t[ti] {
            pi += 1;
            ti += 1;
        } else if let Some((star, matched)) = backtrack {
            pi = star + 1;
            ti = matched + 1;
            backtrack = Some((star, matched + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&b| b == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn glob_matches_like_a_shell() {
        let table = [
            ("*", "anything", true),
            ("*", "", true),
            ("room-*", "room-1", true),
            ("room-*", "room-", true),
            ("room-*", "roo", false),
            ("*-admin", "ops-admin", true),
            ("*-admin", "ops-admins", false),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("lobby", "lobby", true),
            ("lobby", "lobby2", false),
            ("", "", true),
            ("", "x", false),
        ];
        for (pattern, text, expected) in table {
            assert_eq!(glob(pattern, text), expected, "{pattern:?} vs {text:?}");
        }
    }
}
