//! What roomd lets a plugin do. Every call acts in the namespace of the instance making
//! it; `join`, `leave`, `disconnect` and `skip_events` take effect when the current hook
//! returns.
//!
//! Natively (any target but wasm) these calls go to the in-memory stand-in in
//! [`crate::testing`], so plugin logic can be unit-tested without roomd.

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::host_impl as imp;
use crate::{Level, Payload, Target};

/// Writes a line to roomd's log, tagged with the plugin's name.
pub fn log(level: Level, message: &str) {
    imp::log(level, message)
}

/// Sends `event` to the union of `rooms` (all of the namespace when empty), leaving out
/// sockets in `except`. Returns how many sockets it was queued to.
pub fn emit(rooms: &[&str], except: &[&str], event: &str, payload: &Payload) -> Result<u32, String> {
    let target = Target {
        rooms: rooms.iter().map(|r| r.to_string()).collect(),
        except: except.iter().map(|r| r.to_string()).collect(),
    };
    imp::emit(&target, event, payload)
}

/// Sends `event` to one socket.
pub fn emit_to_socket(socket: &str, event: &str, payload: &Payload) -> Result<u32, String> {
    emit(&[socket], &[], event, payload)
}

/// Puts `socket` in `room` (when the current hook returns).
pub fn join(socket: &str, room: &str) -> Result<(), String> {
    imp::join(socket, room)
}

/// Takes `socket` out of `room` (when the current hook returns).
pub fn leave(socket: &str, room: &str) -> Result<(), String> {
    imp::leave(socket, room)
}

/// Disconnects `socket` from the namespace (when the current hook returns).
pub fn disconnect(socket: &str) -> Result<(), String> {
    imp::disconnect(socket)
}

/// Stops calling this plugin's `on_event` for `socket`'s events, for as long as the
/// socket stays and this version of the plugin serves (a hot swap, of the code or of its
/// settings, asks again; a fresh instance after a trap does not). For an answer about a
/// socket that cannot change, such as a room policy that allows every room.
pub fn skip_events(socket: &str) -> Result<(), String> {
    imp::skip_events(socket)
}

/// The rooms `socket` is in, its own included.
pub fn rooms_of(socket: &str) -> Vec<String> {
    imp::rooms_of(socket)
}

/// The sockets in `room`.
pub fn sockets_in(room: &str) -> Vec<String> {
    imp::sockets_in(room)
}

/// The plugin's key-value store in this namespace. It outlives instances, so state kept
/// here survives a trap or a hot swap of the plugin.
pub mod kv {
    use super::*;

    /// The value under `key`.
    pub fn get(key: &str) -> Option<Vec<u8>> {
        imp::kv_get(key)
    }

    /// Stores `value` under `key`.
    pub fn set(key: &str, value: &[u8]) {
        imp::kv_set(key, value)
    }

    /// Removes `key`.
    pub fn delete(key: &str) {
        imp::kv_delete(key)
    }

    /// Keys starting with `prefix`, sorted.
    pub fn keys(prefix: &str) -> Vec<String> {
        imp::kv_keys(prefix)
    }

    /// The value under `key` as JSON; `None` when absent or not decodable.
    pub fn get_json<T: DeserializeOwned>(key: &str) -> Option<T> {
        get(key).and_then(|bytes| serde_json::from_slice(&bytes).ok())
    }

    /// Stores `value` as JSON under `key`.
    pub fn set_json<T: Serialize>(key: &str, value: &T) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            set(key, &bytes)
        }
    }
}
