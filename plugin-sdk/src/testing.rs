//! An in-memory stand-in for roomd, used by [`crate::host`] when a plugin is compiled
//! natively (for `cargo test`). Each test thread has its own.
//!
//! ```ignore
//! roomd_plugin_sdk::testing::reset();
//! roomd_plugin_sdk::testing::set_rooms("sock1", &["sock1", "lobby"]);
//! // ... call the plugin's hooks ...
//! let sent = roomd_plugin_sdk::testing::take_emitted();
//! ```

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use crate::{Level, Payload};

/// One `emit` a plugin made.
#[derive(Debug, Clone, PartialEq)]
pub struct Emitted {
    /// Target rooms (empty: the namespace).
    pub rooms: Vec<String>,
    /// Rooms left out.
    pub except: Vec<String>,
    /// Event name.
    pub event: String,
    /// Arguments as JSON values.
    pub args: Vec<serde_json::Value>,
}

/// A membership change, disconnect or skip a plugin asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// `join(socket, room)`.
    Join(String, String),
    /// `leave(socket, room)`.
    Leave(String, String),
    /// `disconnect(socket)`.
    Disconnect(String),
    /// `skip_events(socket)`.
    SkipEvents(String),
}

#[derive(Default)]
struct Stand {
    log: Vec<(Level, String)>,
    emitted: Vec<Emitted>,
    actions: Vec<Action>,
    rooms: BTreeMap<String, BTreeSet<String>>,
    kv: BTreeMap<String, Vec<u8>>,
    scans: Vec<String>,
}

thread_local! {
    static STAND: RefCell<Stand> = RefCell::new(Stand::default());
}

fn with<R>(f: impl FnOnce(&mut Stand) -> R) -> R {
    STAND.with(|stand| f(&mut stand.borrow_mut()))
}

/// Forgets everything: log, emits, actions, rooms, key-value store.
pub fn reset() {
    with(|s| *s = Stand::default())
}

/// Declares the rooms `socket` is in (what `rooms_of` and `sockets_in` answer).
pub fn set_rooms(socket: &str, rooms: &[&str]) {
    with(|s| {
        s.rooms.insert(socket.to_owned(), rooms.iter().map(|r| r.to_string()).collect());
    })
}

/// The emits made since the last call.
pub fn take_emitted() -> Vec<Emitted> {
    with(|s| std::mem::take(&mut s.emitted))
}

/// The joins, leaves, disconnects and skips asked for since the last call.
pub fn take_actions() -> Vec<Action> {
    with(|s| std::mem::take(&mut s.actions))
}

/// The prefixes `kv::keys` was asked for since the last call, in order (to see what a
/// plugin scans).
pub fn take_kv_scans() -> Vec<String> {
    with(|s| std::mem::take(&mut s.scans))
}

/// The log lines written since the last call.
pub fn take_log() -> Vec<(Level, String)> {
    with(|s| std::mem::take(&mut s.log))
}

pub(crate) mod native {
    use super::*;

    pub(crate) fn log(level: Level, message: &str) {
        with(|s| s.log.push((level, message.to_owned())))
    }

    pub(crate) fn emit(target: &crate::Target, event: &str, payload: &Payload) -> Result<u32, String> {
        let reached = with(|s| {
            let members: BTreeSet<&String> = s
                .rooms
                .iter()
                .filter(|(_, rooms)| target.rooms.is_empty() || target.rooms.iter().any(|r| rooms.contains(r)))
                .filter(|(_, rooms)| !target.except.iter().any(|r| rooms.contains(r)))
                .map(|(socket, _)| socket)
                .collect();
            members.len() as u32
        });
        with(|s| {
            s.emitted.push(Emitted {
                rooms: target.rooms.clone(),
                except: target.except.clone(),
                event: event.to_owned(),
                args: payload.values(),
            })
        });
        Ok(reached)
    }

    pub(crate) fn join(socket: &str, room: &str) -> Result<(), String> {
        with(|s| {
            s.rooms.entry(socket.to_owned()).or_default().insert(room.to_owned());
            s.actions.push(Action::Join(socket.to_owned(), room.to_owned()));
        });
        Ok(())
    }

    pub(crate) fn leave(socket: &str, room: &str) -> Result<(), String> {
        with(|s| {
            if let Some(rooms) = s.rooms.get_mut(socket) {
                rooms.remove(room);
            }
            s.actions.push(Action::Leave(socket.to_owned(), room.to_owned()));
        });
        Ok(())
    }

    pub(crate) fn disconnect(socket: &str) -> Result<(), String> {
        with(|s| s.actions.push(Action::Disconnect(socket.to_owned())));
        Ok(())
    }

    pub(crate) fn skip_events(socket: &str) -> Result<(), String> {
        with(|s| s.actions.push(Action::SkipEvents(socket.to_owned())));
        Ok(())
    }

    pub(crate) fn rooms_of(socket: &str) -> Vec<String> {
        with(|s| s.rooms.get(socket).map(|r| r.iter().cloned().collect()).unwrap_or_default())
    }

    pub(crate) fn sockets_in(room: &str) -> Vec<String> {
        with(|s| s.rooms.iter().filter(|(_, rooms)| rooms.contains(room)).map(|(id, _)| id.clone()).collect())
    }

    pub(crate) fn kv_get(key: &str) -> Option<Vec<u8>> {
        with(|s| s.kv.get(key).cloned())
    }

    pub(crate) fn kv_set(key: &str, value: &[u8]) {
        with(|s| {
            s.kv.insert(key.to_owned(), value.to_vec());
        })
    }

    pub(crate) fn kv_delete(key: &str) {
        with(|s| {
            s.kv.remove(key);
        })
    }

    pub(crate) fn kv_keys(prefix: &str) -> Vec<String> {
        with(|s| {
            s.scans.push(prefix.to_owned());
            s.kv.keys().filter(|k| k.starts_with(prefix)).cloned().collect()
        })
    }
}
