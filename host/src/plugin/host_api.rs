//! The host side of the `host` interface: what a plugin may do, checked and bounded.

use bytes::Bytes;
use wasmtime::component::Resource;

use super::bindings::roomd::plugin::host::{Host, Target};
use super::bindings::roomd::plugin::types::{self, Level, Payload as WitPayload};
use super::bindings::SocketResource;
use super::instance::{Deferred, HostState, MAX_ACTIONS_PER_CALL};
use crate::sid::Sid;
use crate::socketio::{Namespace, Payload};

impl types::Host for HostState {}

/// The lent `socket`: the socket of the current hook. A handle exists only inside a hook
/// about a socket, so `socket` is always set when these run; the empty answers are for
/// a host bug, not a plugin's.
impl types::HostSocket for HostState {
    fn id(&mut self, _: Resource<SocketResource>) -> String {
        self.socket.as_ref().map(|s| s.id.to_string()).unwrap_or_default()
    }

    fn namespace(&mut self, _: Resource<SocketResource>) -> String {
        self.namespace.as_ref().map(|ns| ns.name().to_owned()).unwrap_or_default()
    }

    fn data(&mut self, _: Resource<SocketResource>) -> String {
        self.socket.as_ref().map_or_else(|| String::from("{}"), |s| s.data.to_string())
    }

    /// Lent handles are never owned by the plugin, so there is nothing to drop.
    fn drop(&mut self, _: Resource<SocketResource>) -> wasmtime::Result<()> {
        Ok(())
    }
}

impl HostState {
    fn namespace(&self) -> Result<&Namespace, String> {
        self.namespace.as_ref().ok_or_else(|| String::from("no namespace: host calls are only valid inside a hook"))
    }

    /// The id of a socket connected to the current namespace.
    fn socket(&self, id: &str) -> Result<Sid, String> {
        let sid = id.parse::<Sid>().map_err(|_| format!("{id:?} is not a socket id"))?;
        match self.namespace()?.socket(sid) {
            Some(_) => Ok(sid),
            None => Err(format!("no socket {id} in this namespace")),
        }
    }

    fn defer(&mut self, action: Deferred) -> Result<(), String> {
        if self.deferred.len() >= MAX_ACTIONS_PER_CALL {
            return Err(format!("more than {MAX_ACTIONS_PER_CALL} actions in one call"));
        }
        self.deferred.push(action);
        Ok(())
    }
}

impl Host for HostState {
    fn log(&mut self, level: Level, message: String) {
        let plugin = &*self.plugin;
        match level {
            Level::Trace => tracing::trace!(plugin, "{message}"),
            Level::Debug => tracing::debug!(plugin, "{message}"),
            Level::Info => tracing::info!(plugin, "{message}"),
            Level::Warn => tracing::warn!(plugin, "{message}"),
            Level::Error => tracing::error!(plugin, "{message}"),
        }
    }

    fn emit(&mut self, target: Target, event: String, payload: WitPayload) -> Result<u32, String> {
        if crate::socketio::packet::is_reserved_event(&event) {
            return Err(format!("event name {event:?} is reserved"));
        }
        let attachments = payload.attachments.into_iter().map(Bytes::from).collect();
        let payload = Payload::new(payload.args, attachments).map_err(|e| e.to_string())?;
        let mut broadcast = self.namespace()?.broadcast();
        for room in target.rooms {
            broadcast = broadcast.to(room);
        }
        for room in target.except {
            broadcast = broadcast.except(room);
        }
        Ok(broadcast.emit(&event, &payload) as u32)
    }

    fn join(&mut self, socket: String, room: String) -> Result<(), String> {
        let sid = self.socket(&socket)?;
        if room.is_empty() || room.len() > crate::relay::MAX_ROOM_NAME {
            return Err(format!("room names must be 1 to {} bytes", crate::relay::MAX_ROOM_NAME));
        }
        self.defer(Deferred::Join(sid, room))
    }

    fn leave(&mut self, socket: String, room: String) -> Result<(), String> {
        let sid = self.socket(&socket)?;
        if room == socket {
            return Err("a socket cannot leave its own room".into());
        }
        self.defer(Deferred::Leave(sid, room))
    }

    fn disconnect(&mut self, socket: String) -> Result<(), String> {
        let sid = self.socket(&socket)?;
        self.defer(Deferred::Disconnect(sid))
    }

    fn skip_events(&mut self, socket: String) -> Result<(), String> {
        let sid = self.socket(&socket)?;
        self.defer(Deferred::SkipEvents(sid))
    }

    fn rooms_of(&mut self, socket: String) -> Vec<String> {
        let (Ok(ns), Ok(sid)) = (self.namespace(), socket.parse::<Sid>()) else { return Vec::new() };
        let mut rooms: Vec<String> = ns.adapter().rooms_of(sid).iter().map(|r| r.to_string()).collect();
        rooms.sort();
        rooms
    }

    fn sockets_in(&mut self, room: String) -> Vec<String> {
        let Ok(ns) = self.namespace() else { return Vec::new() };
        let mut sockets: Vec<String> = ns.adapter().sockets_in(&room).iter().map(Sid::to_string).collect();
        sockets.sort();
        sockets
    }

    fn kv_get(&mut self, key: String) -> Option<Vec<u8>> {
        self.kv.get(&self.scope, &key)
    }

    fn kv_set(&mut self, key: String, value: Vec<u8>) {
        self.kv.set(&self.scope, &key, value)
    }

    fn kv_delete(&mut self, key: String) {
        self.kv.delete(&self.scope, &key)
    }

    fn kv_keys(&mut self, prefix: String) -> Vec<String> {
        self.kv.keys(&self.scope, &prefix)
    }
}
