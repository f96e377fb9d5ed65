//! Namespaces: separate channels on one connection, each with its own handler, sockets
//! and rooms.
//!
//! A namespace owns the map of its connected sockets and its [`Adapter`]; the
//! application's [`NamespaceHandler`] decides who may connect and what events do.
//! Broadcasts are resolved by the adapter and encoded here, once.

use std::collections::HashMap;
use std::sync::{Arc, RwLock, Weak};

use smallvec::SmallVec;

use super::payload::Payload;
use super::socket::Socket;
use super::{DisconnectReason, encode_outgoing, packet};
use crate::adapter::{Adapter, BroadcastOptions, Room};
use crate::engineio::Handshake;
use crate::metrics::METRICS;
use crate::sid::{Sid, SidMap};

/// What a client asks for when it connects to a namespace.
#[derive(Debug)]
pub struct ConnectRequest<'a> {
    /// The namespace asked for.
    pub namespace: &'a Namespace,
    /// The CONNECT packet's auth object as JSON text, if any.
    pub auth: Option<&'a str>,
    /// The HTTP request that opened the connection.
    pub handshake: &'a Handshake,
}

/// A refused CONNECT, as the client sees it in `connect_error`: `err.message` and
/// `err.data`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectError {
    /// Shown to the client as `err.message`.
    pub message: String,
    /// Shown to the client as `err.data`.
    pub data: Option<serde_json::Value>,
}

/// An event from a client.
#[derive(Debug)]
pub struct Event {
    /// The event name.
    pub name: String,
    /// The arguments after the name.
    pub payload: Payload,
    /// Present when the client waits for an acknowledgement; answer with
    /// [`Socket::ack`].
    pub ack: Option<u64>,
}

/// The application's behaviour for a namespace. Every hook has a default, so a handler
/// implements only what it needs.
///
/// Hooks run synchronously, in the order the client's packets arrived: on the
/// connection's task, or, for events a handler put off ([`stage_events`](Self::stage_events)),
/// on whichever task settles them first. Anything slow belongs in a spawned task.
pub trait NamespaceHandler: Send + Sync + 'static {
    /// Decides whether a client may connect. `Ok(Some(json))` admits it and attaches a
    /// JSON object to the socket ([`Socket::data`]). The default admits everyone.
    fn authorize(&self, _request: &ConnectRequest<'_>) -> Result<Option<String>, ConnectError> {
        Ok(None)
    }

    /// A socket has connected (its CONNECT answer is already queued).
    fn on_connect(&self, _socket: &Socket) {}

    /// The client emitted an event.
    fn on_event(&self, _socket: &Socket, _event: Event) {}

    /// The client emitted several events that arrived together, in order. A handler that
    /// does better with several at once overrides this; by default each goes to
    /// [`on_event`](Self::on_event).
    fn on_events(&self, socket: &Socket, events: Vec<Event>) {
        for event in events {
            // One event may end the socket; the rest are not its any more.
            if !socket.connected() {
                return;
            }
            self.on_event(socket, event);
        }
    }

    /// Events that may be decided a little later, together with other sockets' (a plugin
    /// chain then runs each plugin over many sockets' events while its code is warm in
    /// the cache). Returns the work put off, which the connection settles before it acts
    /// on anything else of its own; or hands the events back, to go to
    /// [`on_events`](Self::on_events) now (the default).
    fn stage_events(&self, _socket: &Socket, events: SmallVec<[Event; 1]>) -> Result<Arc<dyn Staged>, SmallVec<[Event; 1]>> {
        Err(events)
    }

    /// The socket entered `room` (not called for its own room).
    fn on_join(&self, _socket: &Socket, _room: &str) {}

    /// The socket left `room` (not called at disconnect).
    fn on_leave(&self, _socket: &Socket, _room: &str) {}

    /// The socket is disconnecting; its rooms are still joined.
    fn on_disconnect(&self, _socket: &Socket, _reason: DisconnectReason) {}
}

/// Events of one socket a handler put off ([`NamespaceHandler::stage_events`]). The
/// handler carries them out soon; whoever settles them first does the work, once.
pub trait Staged: Send + Sync {
    /// Carries out what has not been done yet, waiting for it if it is under way on
    /// another thread. Never called from inside that work: the connection settles at its
    /// next read or at its close, and a close is carried out on the session's own task.
    fn settle(&self);
}

/// The server's namespaces by name. A std lock, held for map operations only; a
/// namespace's own locks may be taken under it, never the other way round.
pub(super) type Registry = RwLock<HashMap<String, Namespace>>;

/// A namespace: a cheap-to-clone handle.
#[derive(Clone)]
pub struct Namespace(Arc<Inner>);

struct Inner {
    name: String,
    /// For a namespace created on demand from a dynamic pattern, the registry it leaves
    /// when its last socket goes; `None` for a configured one.
    registry: Option<Weak<Registry>>,
    handler: Arc<dyn NamespaceHandler>,
    adapter: Box<dyn Adapter>,
    /// Connected sockets by id. A std lock: held only for map operations, never while
    /// sending or calling the handler.
    sockets: RwLock<SidMap<Socket>>,
}

impl Namespace {
    /// A namespace; `registry` makes it dynamic (see [`Inner::registry`]).
    pub(super) fn new(
        name: String,
        registry: Option<Weak<Registry>>,
        handler: Arc<dyn NamespaceHandler>,
        adapter: Box<dyn Adapter>,
    ) -> Namespace {
        Namespace(Arc::new(Inner { name, registry, handler, adapter, sockets: RwLock::new(SidMap::default()) }))
    }

    /// A namespace that no server serves, with the in-memory adapter and a handler that
    /// does nothing: for tools and benchmarks that drive a component directly.
    pub fn standalone(name: &str) -> Namespace {
        struct Inert;
        impl NamespaceHandler for Inert {}
        Namespace::new(name.to_owned(), None, Arc::new(Inert), Box::new(crate::adapter::MemoryAdapter::new()))
    }

    /// Whether the namespace was created from a dynamic pattern.
    pub fn is_dynamic(&self) -> bool {
        self.0.registry.is_some()
    }

    /// The namespace name, e.g. `/` or `/chat`.
    pub fn name(&self) -> &str {
        &self.0.name
    }

    /// Whether both handles name the same namespace instance.
    pub fn is_same(&self, other: &Namespace) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }

    /// The namespace's handler.
    pub fn handler(&self) -> &Arc<dyn NamespaceHandler> {
        &self.0.handler
    }

    /// The namespace's room index.
    pub fn adapter(&self) -> &dyn Adapter {
        &*self.0.adapter
    }

    /// A connected socket by id.
    pub fn socket(&self, id: Sid) -> Option<Socket> {
        self.0.sockets.read().unwrap_or_else(|e| e.into_inner()).get(&id).cloned()
    }

    /// The connected sockets.
    pub fn sockets(&self) -> Vec<Socket> {
        self.0.sockets.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect()
    }

    /// Number of connected sockets.
    pub fn len(&self) -> usize {
        self.0.sockets.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Whether no socket is connected.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// A broadcast to every socket of the namespace; narrow it with `to` and `except`.
    pub fn broadcast(&self) -> BroadcastOperator<'_> {
        self.broadcast_from(None)
    }

    pub(super) fn broadcast_from(&self, sender: Option<Sid>) -> BroadcastOperator<'_> {
        BroadcastOperator {
            namespace: self,
            options: BroadcastOptions { except_sid: sender, ..BroadcastOptions::default() },
        }
    }

    /// Registers a new socket, in its own room.
    pub(super) fn add(&self, socket: Socket) {
        self.0.adapter.join(socket.id(), Room::from(socket.id().as_str()));
        self.0.sockets.write().unwrap_or_else(|e| e.into_inner()).insert(socket.id(), socket);
        METRICS.sockets.inc();
    }

    /// Unregisters a socket after telling the handler.
    pub(super) fn remove(&self, socket: &Socket, reason: DisconnectReason) {
        self.0.handler.on_disconnect(socket, reason);
        self.0.adapter.leave_all(socket.id());
        self.0.sockets.write().unwrap_or_else(|e| e.into_inner()).remove(&socket.id());
        self.forget_if_empty();
    }

    /// A dynamic namespace left without sockets — however the last one went: the client
    /// left, the server or a plugin disconnected it, the connection closed — leaves the
    /// registry, so clients cannot grow it without bound by trying names. A later CONNECT
    /// creates it afresh.
    fn forget_if_empty(&self) {
        let Some(registry) = self.0.registry.as_ref().and_then(Weak::upgrade) else { return };
        let mut named = registry.write().unwrap_or_else(|e| e.into_inner());
        if self.is_empty() && named.get(&self.0.name).is_some_and(|current| current.is_same(self)) {
            named.remove(&self.0.name);
        }
    }

    /// Queues one encoded packet to every socket `options` reaches; returns how many.
    fn deliver(&self, options: &BroadcastOptions, event: &str, payload: &Payload) -> usize {
        self.0.adapter.publish(options, event, payload);
        let sids = self.0.adapter.recipients(options);
        if sids.is_empty() {
            return 0;
        }
        let out = encode_outgoing(packet::encode_event(&self.0.name, event, payload, None), payload);
        METRICS.broadcasts.inc();
        // Queued under the read lock: a send never waits or calls back into the namespace,
        // and no socket handle is cloned per recipient.
        let sockets = self.0.sockets.read().unwrap_or_else(|e| e.into_inner());
        let mut reached = 0;
        for socket in sids.iter().filter_map(|sid| sockets.get(sid)) {
            let _ = socket.send(out.clone());
            reached += 1;
        }
        reached
    }
}

impl std::fmt::Debug for Namespace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Namespace").field("name", &self.0.name).finish_non_exhaustive()
    }
}

/// A broadcast being addressed: `to` adds target rooms (their union), `except` removes
/// the sockets of other rooms, `emit` sends.
#[derive(Debug)]
pub struct BroadcastOperator<'a> {
    namespace: &'a Namespace,
    options: BroadcastOptions,
}

impl BroadcastOperator<'_> {
    /// Adds a target room.
    pub fn to(mut self, room: impl Into<Room>) -> Self {
        self.options.rooms.push(room.into());
        self
    }

    /// Leaves out the sockets in `room`.
    pub fn except(mut self, room: impl Into<Room>) -> Self {
        self.options.except.push(room.into());
        self
    }

    /// Sends `event` to every addressed socket, encoded once; returns how many sockets it
    /// was queued to.
    pub fn emit(&self, event: &str, payload: &Payload) -> usize {
        self.namespace.deliver(&self.options, event, payload)
    }

    /// The ids of the sockets this broadcast would reach.
    pub fn sockets(&self) -> Vec<Sid> {
        self.namespace.adapter().recipients(&self.options)
    }
}
