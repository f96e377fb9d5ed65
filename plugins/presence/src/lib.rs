//! roomd's presence plugin: who is online, per room and per namespace.
//!
//! A user is the `user.id` the auth plugin attached to the socket, or else the socket id;
//! a user on two devices is one user with two connections. State lives in the host's
//! key-value store — one entry per connection — so it survives a hot swap of the plugin
//! (and a cluster can share it later).
//!
//! What clients see:
//! - `presence:state {room, users:[{id,name}]}` to a socket that joins a room (and, with
//!   `room: null`, to a socket that connects: the namespace's state);
//! - `presence:diff {room, joins:[...], leaves:[...]}` to the room (or, with `room: null`,
//!   to the namespace) when a user's first connection arrives or last one leaves —
//!   disconnects included;
//! - a `presence:list` request (`emit("presence:list", room | null, ack)`) is answered
//!   through the ack with the state.
//!
//! Above `max_users` users a room's state and diffs carry only `count`. The count is
//! kept in the store as users come and go, so a large room or namespace is never listed
//! to learn its size: an arrival costs the same with ten users present as with ten
//! thousand. So is each user's number of connections, so a user on many connections is
//! never listed connection by connection either.

use std::collections::BTreeMap;

use roomd_plugin_sdk::{Event, EventVerdict, Hooks, Interests, Payload, Plugin, Socket, export_plugin, host};
use serde::Deserialize;
use serde_json::{Value, json};

/// Separates the parts of a key (a control character no room or user name should hold).
const SEP: char = '\u{1f}';

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// Above this many users, rooms get counts instead of lists. Default 100.
    #[serde(default = "default_max_users")]
    max_users: usize,
}

fn default_max_users() -> usize {
    100
}

/// The presence plugin.
pub struct Presence {
    max_users: usize,
}

/// A user as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct User {
    id: String,
    name: String,
}

impl User {
    /// The user `id`, named as the store remembers it.
    fn named(id: String) -> User {
        let name = host::kv::get(&name_key(&id)).and_then(|b| String::from_utf8(b).ok()).unwrap_or_else(|| id.clone());
        User { id, name }
    }

    fn of(socket: &Socket) -> User {
        let data = socket.data_json();
        let id = data["user"]["id"].as_str().map_or_else(|| socket.id().to_owned(), str::to_owned);
        let name = data["user"]["name"].as_str().map_or_else(|| id.clone(), str::to_owned);
        User { id, name }
    }

    fn json(&self) -> Value {
        json!({ "id": self.id, "name": self.name })
    }
}

/// Where a connection is present: a room, or the namespace itself (`None`).
fn scope(room: Option<&str>) -> String {
    match room {
        Some(room) => format!("r{SEP}{room}{SEP}"),
        None => format!("n{SEP}"),
    }
}

fn connection_key(room: Option<&str>, user: &User, socket: &str) -> String {
    format!("{}{}{SEP}{socket}", scope(room), user.id)
}

fn name_key(user: &str) -> String {
    format!("name{SEP}{user}")
}

/// Users present in `room` (or the namespace), with their names: one store entry read per
/// user. State from a version that kept no per-user counts (carried over by a hot swap)
/// is read connection by connection.
fn users(room: Option<&str>) -> Vec<User> {
    let prefix = connections_key(room, "");
    let counted: Vec<String> = host::kv::keys(&prefix).into_iter().map(|key| key[prefix.len()..].to_owned()).collect();
    if stored_count(room) == Some(counted.len()) {
        return counted.into_iter().map(User::named).collect();
    }
    let prefix = scope(room);
    let mut ids: BTreeMap<String, ()> = BTreeMap::new();
    for key in host::kv::keys(&prefix) {
        if let Some((id, _socket)) = key[prefix.len()..].rsplit_once(SEP) {
            ids.insert(id.to_owned(), ());
        }
    }
    ids.into_keys().map(User::named).collect()
}

/// Where the number of `user`'s connections in `room` (or the namespace) is kept.
fn connections_key(room: Option<&str>, user: &str) -> String {
    format!("conns{SEP}{}{user}", scope(room))
}

/// How many of `user`'s connections are in `room` (or the namespace): the count kept, or
/// for state from before counts per user were kept, counted once.
fn connections(room: Option<&str>, user: &User) -> usize {
    let kept = host::kv::get(&connections_key(room, &user.id)).and_then(|b| String::from_utf8(b).ok()?.parse().ok());
    kept.unwrap_or_else(|| host::kv::keys(&format!("{}{}{SEP}", scope(room), user.id)).len())
}

/// Keeps `user`'s number of connections in `room` (or the namespace); none leaves nothing.
fn store_connections(room: Option<&str>, user: &User, count: usize) {
    match count {
        0 => host::kv::delete(&connections_key(room, &user.id)),
        _ => host::kv::set(&connections_key(room, &user.id), count.to_string().as_bytes()),
    }
}

fn count_key(room: Option<&str>) -> String {
    format!("count{SEP}{}", scope(room))
}

/// The user count stored for `room` (or the namespace), if there is one.
fn stored_count(room: Option<&str>) -> Option<usize> {
    String::from_utf8(host::kv::get(&count_key(room))?).ok()?.parse().ok()
}

/// Stores `room`'s count; an empty room's is deleted, so rooms that emptied leave
/// nothing in the store (a missing count of an empty room recounts to 0).
fn store_count(room: Option<&str>, count: usize) -> usize {
    match count {
        0 => host::kv::delete(&count_key(room)),
        _ => host::kv::set(&count_key(room), count.to_string().as_bytes()),
    }
    count
}

/// How many users are present in `room` (or the namespace). State written by a version
/// from before counts were kept (carried over by a hot swap) is counted once.
fn user_count(room: Option<&str>) -> usize {
    stored_count(room).unwrap_or_else(|| store_count(room, users(room).len()))
}

/// A user's first connection arrived in `room` (`+1`) or its last left (`-1`); the
/// connection keys already say so. Returns the new count.
fn recount_by(room: Option<&str>, delta: isize) -> usize {
    match stored_count(room) {
        Some(count) => store_count(room, count.saturating_add_signed(delta)),
        None => user_count(room),
    }
}

impl Presence {
    fn state(&self, room: Option<&str>) -> Value {
        let count = user_count(room);
        if count > self.max_users {
            return json!({ "room": room, "count": count });
        }
        let users = users(room);
        json!({ "room": room, "users": users.iter().map(User::json).collect::<Vec<_>>() })
    }

    /// Tells the room (or namespace) that `user` arrived or left, except `socket`; `count`
    /// is how many users are present now.
    fn announce(&self, room: Option<&str>, user: &User, joined: bool, socket: &str, count: usize) {
        let diff = if count > self.max_users {
            json!({ "room": room, "count": count })
        } else if joined {
            json!({ "room": room, "joins": [user.json()], "leaves": [] })
        } else {
            json!({ "room": room, "joins": [], "leaves": [user.json()] })
        };
        let rooms: Vec<&str> = room.into_iter().collect();
        let _ = host::emit(&rooms, &[socket], "presence:diff", &Payload::from_values(&[diff]));
    }

    /// Records a connection of `socket`'s user in `room`; announces a first arrival.
    fn arrive(&self, socket: &Socket, room: Option<&str>) {
        let user = User::of(socket);
        host::kv::set(&name_key(&user.id), user.name.as_bytes());
        let key = connection_key(room, &user, socket.id());
        // A connection already here (told twice) is not counted twice.
        let mut count = None;
        if host::kv::get(&key).is_none() {
            let before = connections(room, &user);
            host::kv::set(&key, b"");
            store_connections(room, &user, before + 1);
            if before == 0 {
                count = Some(recount_by(room, 1));
            }
        }
        let _ = host::emit_to_socket(socket.id(), "presence:state", &Payload::from_values(&[self.state(room)]));
        if let Some(count) = count {
            self.announce(room, &user, true, socket.id(), count);
        }
    }

    /// Removes a connection of `socket`'s user from `room`; announces a last departure.
    fn depart(&self, socket: &Socket, room: Option<&str>) {
        let user = User::of(socket);
        let key = connection_key(room, &user, socket.id());
        if host::kv::get(&key).is_none() {
            return;
        }
        let left = connections(room, &user).saturating_sub(1);
        host::kv::delete(&key);
        store_connections(room, &user, left);
        if left == 0 {
            let count = recount_by(room, -1);
            self.announce(room, &user, false, socket.id(), count);
        }
    }
}

impl Plugin for Presence {
    fn init(config: &Value) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config.clone()).map_err(|e| format!("presence config: {e}"))?;
        Ok(Presence { max_users: config.max_users })
    }

    fn interests(&self) -> Interests {
        // Arrivals and departures, and the one request it answers; never a chat message.
        Interests::everything()
            .hooks(Hooks::CONNECTED | Hooks::ROOM_JOINED | Hooks::ROOM_LEFT | Hooks::DISCONNECT)
            .only_events(["presence:list"])
    }

    fn on_connected(&mut self, socket: &Socket) {
        self.arrive(socket, None);
    }

    fn on_room_joined(&mut self, socket: &Socket, room: &str) {
        self.arrive(socket, Some(room));
    }

    fn on_room_left(&mut self, socket: &Socket, room: &str) {
        self.depart(socket, Some(room));
    }

    fn on_disconnect(&mut self, socket: &Socket, _reason: &str) {
        for room in host::rooms_of(socket.id()) {
            if room != socket.id() {
                self.depart(socket, Some(&room));
            }
        }
        self.depart(socket, None);
    }

    fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
        if event.name != "presence:list" {
            return EventVerdict::Allow;
        }
        let room = event.payload.values().first().and_then(|v| v.as_str().map(str::to_owned));
        EventVerdict::handled(&[self.state(room.as_deref())])
    }
}

export_plugin!(Presence);

#[cfg(test)]
mod tests;
