//! Socket.IO v5 on top of Engine.IO: packets, namespaces, sockets, acknowledgements and
//! binary attachments.
//!
//! [`SocketIo`] is the server handle. It implements the Engine.IO [`Handler`] through
//! [`Core`]: each Engine.IO session carries a [`Client`] that multiplexes the namespaces
//! the client has joined and reassembles binary packets. Any packet the reference
//! implementation would refuse closes the session; an unknown namespace is answered with
//! `CONNECT_ERROR {"message":"Invalid namespace"}`.
//!
//! This module knows nothing of plugins or config files: behaviour comes from the
//! [`NamespaceHandler`] attached to each namespace.

mod namespace;
pub mod packet;
mod payload;
mod socket;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use hyper::body::Incoming as IncomingBody;
use regex::Regex;

pub use namespace::{BroadcastOperator, ConnectError, ConnectRequest, Event, Namespace, NamespaceHandler};
pub use payload::{Payload, PayloadError};
pub use socket::{AckError, Socket};

use crate::adapter::{Adapter, MemoryAdapter};
use crate::engineio::{CloseReason, Engine, EngineConfig, Frame, Handler, HttpResponse, Message, Outgoing, Session};
use crate::metrics::METRICS;
use packet::Packet;

/// Socket.IO settings.
#[derive(Debug, Clone)]
pub struct SocketIoConfig {
    /// A session that has joined no namespace this long after opening is closed.
    pub connect_timeout: Duration,
    /// Most binary attachments one packet may announce.
    pub max_attachments: usize,
}

impl Default for SocketIoConfig {
    /// The defaults of the Node.js server.
    fn default() -> SocketIoConfig {
        SocketIoConfig { connect_timeout: Duration::from_millis(45_000), max_attachments: 10 }
    }
}

/// Why a socket left its namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DisconnectReason {
    /// The client's connection closed.
    TransportClose,
    /// The client broke the protocol.
    TransportError,
    /// The client stopped answering pings.
    PingTimeout,
    /// The client could not keep up with what was sent to it.
    SlowConsumer,
    /// The server is shutting down.
    ServerShutdown,
    /// The server closed the connection.
    ForcedClose,
    /// The client left the namespace.
    ClientNamespaceDisconnect,
    /// The server removed the socket from the namespace.
    ServerNamespaceDisconnect,
}

impl DisconnectReason {
    /// The reason as Socket.IO names it.
    pub fn as_str(self) -> &'static str {
        match self {
            DisconnectReason::TransportClose => "transport close",
            DisconnectReason::TransportError => "transport error",
            DisconnectReason::PingTimeout => "ping timeout",
            DisconnectReason::SlowConsumer => "slow consumer",
            DisconnectReason::ServerShutdown => "server shutting down",
            DisconnectReason::ForcedClose => "forced server close",
            DisconnectReason::ClientNamespaceDisconnect => "client namespace disconnect",
            DisconnectReason::ServerNamespaceDisconnect => "server namespace disconnect",
        }
    }
}

impl From<CloseReason> for DisconnectReason {
    fn from(reason: CloseReason) -> DisconnectReason {
        match reason {
            CloseReason::ClientClose | CloseReason::TransportClose => DisconnectReason::TransportClose,
            CloseReason::TransportError => DisconnectReason::TransportError,
            CloseReason::PingTimeout => DisconnectReason::PingTimeout,
            CloseReason::SlowConsumer => DisconnectReason::SlowConsumer,
            CloseReason::Shutdown => DisconnectReason::ServerShutdown,
            CloseReason::ServerClose => DisconnectReason::ForcedClose,
        }
    }
}

/// One encoded packet as it is queued: the text alone, or the text followed by its
/// attachments, back to back.
pub(crate) fn encode_outgoing(text: String, payload: &Payload) -> Outgoing {
    let text = Frame::Text(text.into());
    match payload.attachments() {
        [] => Outgoing::One(text),
        attachments => Outgoing::Many(
            std::iter::once(text).chain(attachments.iter().cloned().map(Frame::Binary)).collect(),
        ),
    }
}

/// Builds a [`SocketIo`].
pub struct Builder {
    engine: EngineConfig,
    config: SocketIoConfig,
    named: Vec<(String, Arc<dyn NamespaceHandler>)>,
    dynamic: Vec<(Regex, Arc<dyn NamespaceHandler>)>,
}

impl Builder {
    /// Engine.IO settings.
    pub fn engine(mut self, config: EngineConfig) -> Builder {
        self.engine = config;
        self
    }

    /// Socket.IO settings.
    pub fn config(mut self, config: SocketIoConfig) -> Builder {
        self.config = config;
        self
    }

    /// Serves the namespace `name` (e.g. `/` or `/chat`) with `handler`.
    pub fn namespace(mut self, name: impl Into<String>, handler: impl NamespaceHandler) -> Builder {
        self.named.push((name.into(), Arc::new(handler)));
        self
    }

    /// Serves every namespace whose full name matches `pattern` with `handler`. Each
    /// matching name becomes a namespace of its own, with its own sockets and rooms,
    /// created on first connect and dropped when its last socket leaves.
    pub fn dynamic_namespace(mut self, pattern: Regex, handler: impl NamespaceHandler) -> Builder {
        self.dynamic.push((pattern, Arc::new(handler)));
        self
    }

    /// Same as [`namespace`](Self::namespace), for a handler already shared.
    pub fn namespace_arc(mut self, name: impl Into<String>, handler: Arc<dyn NamespaceHandler>) -> Builder {
        self.named.push((name.into(), handler));
        self
    }

    /// Same as [`dynamic_namespace`](Self::dynamic_namespace), for a handler already shared.
    pub fn dynamic_namespace_arc(mut self, pattern: Regex, handler: Arc<dyn NamespaceHandler>) -> Builder {
        self.dynamic.push((pattern, handler));
        self
    }

    /// The server.
    pub fn build(self) -> SocketIo {
        let named = self
            .named
            .into_iter()
            .map(|(name, handler)| (name.clone(), Namespace::new(name, false, handler, new_adapter())))
            .collect();
        let core = Core { config: self.config, named: RwLock::new(named), dynamic: RwLock::new(self.dynamic) };
        SocketIo { engine: Engine::new(self.engine, core) }
    }
}

fn new_adapter() -> Box<dyn Adapter> {
    Box::new(MemoryAdapter::new())
}

/// The Socket.IO server: a cheap-to-clone handle.
#[derive(Clone)]
pub struct SocketIo {
    engine: Engine<Core>,
}

impl SocketIo {
    /// A builder with the Node.js server's defaults and no namespaces.
    pub fn builder() -> Builder {
        Builder {
            engine: EngineConfig::default(),
            config: SocketIoConfig::default(),
            named: Vec::new(),
            dynamic: Vec::new(),
        }
    }

    /// Answers one HTTP request to the Socket.IO path.
    pub async fn handle(&self, req: Request<IncomingBody>, remote: Option<SocketAddr>) -> HttpResponse {
        self.engine.handle(req, remote).await
    }

    /// The namespace `name`, if it exists now.
    pub fn of(&self, name: &str) -> Option<Namespace> {
        self.engine.handler().named.read().unwrap_or_else(|e| e.into_inner()).get(name).cloned()
    }

    /// Serves a new namespace `name` with `handler` from now on.
    pub fn add_namespace(&self, name: &str, handler: Arc<dyn NamespaceHandler>) {
        let ns = Namespace::new(name.to_owned(), false, handler, new_adapter());
        self.engine.handler().named.write().unwrap_or_else(|e| e.into_inner()).insert(name.to_owned(), ns);
    }

    /// Serves every namespace matching `pattern` with `handler` from now on.
    pub fn add_dynamic_namespace(&self, pattern: Regex, handler: Arc<dyn NamespaceHandler>) {
        self.engine.handler().dynamic.write().unwrap_or_else(|e| e.into_inner()).push((pattern, handler));
    }

    /// Stops serving the namespace `name` (or, if `name` is a dynamic pattern, every
    /// namespace it created): its sockets are disconnected (`DISCONNECT`), new CONNECTs
    /// get `Invalid namespace`.
    pub fn remove_namespace(&self, name: &str) {
        let core = self.engine.handler();
        let pattern = {
            let mut dynamic = core.dynamic.write().unwrap_or_else(|e| e.into_inner());
            let index = dynamic.iter().position(|(pattern, _)| pattern.as_str() == name);
            index.map(|i| dynamic.remove(i).0)
        };
        let removed: Vec<Namespace> = {
            let mut named = core.named.write().unwrap_or_else(|e| e.into_inner());
            let doomed: Vec<String> = named
                .iter()
                .filter(|(key, ns)| match &pattern {
                    Some(pattern) => ns.is_dynamic() && pattern.is_match(key),
                    None => key.as_str() == name,
                })
                .map(|(key, _)| key)
                .cloned()
                .collect();
            doomed.iter().filter_map(|key| named.remove(key)).collect()
        };
        for ns in removed {
            for socket in ns.sockets() {
                socket.disconnect();
            }
        }
    }

    /// Number of open Engine.IO sessions.
    pub fn session_count(&self) -> usize {
        self.engine.session_count()
    }

    /// Closes every connection at the transport level, so clients reconnect (elsewhere),
    /// and waits up to `grace` for the connections to finish.
    pub async fn close(&self, grace: Duration) {
        self.engine.close_all(grace).await;
    }
}

/// The Engine.IO handler behind [`SocketIo`].
pub struct Core {
    config: SocketIoConfig,
    /// Namespaces by name: the configured ones and the dynamic ones created so far. A std
    /// lock, held for map operations only.
    named: RwLock<HashMap<String, Namespace>>,
    /// Dynamic namespace patterns, in order. A std lock, held to match a name.
    dynamic: RwLock<Vec<(Regex, Arc<dyn NamespaceHandler>)>>,
}

/// One Engine.IO session's Socket.IO state.
#[derive(Default)]
pub struct Client {
    /// Connected namespaces. A handful per client at most, so a vector. A std mutex:
    /// only ever locked for a lookup or an update.
    sockets: Mutex<Vec<Socket>>,
    /// A binary packet waiting for its attachments.
    partial: Mutex<Option<Partial>>,
}

impl Client {
    fn socket(&self, nsp: &str) -> Option<Socket> {
        self.sockets().iter().find(|s| s.namespace().name() == nsp).cloned()
    }

    fn remove(&self, nsp: &str) {
        self.sockets().retain(|s| s.namespace().name() != nsp);
    }

    fn sockets(&self) -> std::sync::MutexGuard<'_, Vec<Socket>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// A binary packet whose attachments are still arriving.
struct Partial {
    nsp: String,
    kind: Inbound,
    expected: usize,
    attachments: Vec<Bytes>,
}

/// An event or acknowledgement, complete with its attachments.
enum Inbound {
    Event { name: String, json: String, id: Option<u64> },
    Ack { id: u64, json: String },
}

type ClientSession = Arc<Session<Client>>;

/// Closes `session` because the client broke the Socket.IO protocol.
fn protocol_error(session: &ClientSession, why: &str) {
    if !session.is_closed() {
        tracing::debug!(sid = %session.sid(), why, "Socket.IO protocol error, closing session");
        METRICS.protocol_errors.inc();
    }
    session.close(CloseReason::TransportError);
}

impl Core {
    fn namespace(&self, name: &str) -> Option<Namespace> {
        if let Some(ns) = self.named.read().unwrap_or_else(|e| e.into_inner()).get(name) {
            return Some(ns.clone());
        }
        let handler = {
            let dynamic = self.dynamic.read().unwrap_or_else(|e| e.into_inner());
            dynamic.iter().find(|(pattern, _)| pattern.is_match(name))?.1.clone()
        };
        let mut named = self.named.write().unwrap_or_else(|e| e.into_inner());
        let ns = named.entry(name.to_owned()).or_insert_with(|| Namespace::new(name.to_owned(), true, handler, new_adapter()));
        Some(ns.clone())
    }

    /// Creates the socket with `make` and adds it to `ns`. For a dynamic namespace this
    /// happens under the map's lock, on the instance registered now: `ns` may have been
    /// dropped as empty (and maybe re-created) while the CONNECT was being authorized, and
    /// a socket added to an orphaned copy would reach no one.
    fn register(&self, ns: &Namespace, make: impl FnOnce(Namespace) -> Socket) -> Socket {
        if !ns.is_dynamic() {
            let socket = make(ns.clone());
            ns.add(socket.clone());
            return socket;
        }
        let mut named = self.named.write().unwrap_or_else(|e| e.into_inner());
        let current = named.entry(ns.name().to_owned()).or_insert_with(|| ns.clone()).clone();
        let socket = make(current.clone());
        current.add(socket.clone());
        socket
    }

    /// Drops a dynamic namespace that has no socket left, so clients cannot grow the map
    /// without bound by trying names.
    fn forget_if_empty(&self, ns: &Namespace) {
        if !ns.is_dynamic() {
            return;
        }
        let mut named = self.named.write().unwrap_or_else(|e| e.into_inner());
        if ns.is_empty() && named.get(ns.name()).is_some_and(|current| current.is_same(ns)) {
            named.remove(ns.name());
        }
    }

    fn connect(&self, session: &ClientSession, nsp: &str, auth: Option<&str>) {
        if session.data().socket(nsp).is_some() {
            return protocol_error(session, "CONNECT to a namespace already joined");
        }
        let Some(ns) = self.namespace(nsp) else {
            METRICS.connects_refused.inc();
            let text = packet::encode_connect_error(nsp, "Invalid namespace", None);
            let _ = session.send(Outgoing::One(Frame::Text(text.into())));
            return;
        };
        let request = ConnectRequest { namespace: &ns, auth, handshake: session.handshake() };
        let data = match ns.handler().authorize(&request) {
            Ok(data) => data,
            Err(refused) => {
                METRICS.connects_refused.inc();
                let text = packet::encode_connect_error(nsp, &refused.message, refused.data.as_ref());
                let _ = session.send(Outgoing::One(Frame::Text(text.into())));
                return;
            }
        };
        if session.is_closed() || session.data().socket(nsp).is_some() {
            return;
        }
        let socket = self.register(&ns, |ns| Socket::new(ns, session.clone(), auth.map(Box::from), data));
        let ns = socket.namespace().clone();
        session.data().sockets().push(socket.clone());
        let text = packet::encode_connect(nsp, socket.id().as_str());
        if socket.send(Outgoing::One(Frame::Text(text.into()))).is_ok() {
            ns.handler().on_connect(&socket);
        }
    }

    fn dispatch(&self, session: &ClientSession, nsp: &str, inbound: Inbound, attachments: Vec<Bytes>) {
        let Some(socket) = session.data().socket(nsp) else {
            return protocol_error(session, "packet for a namespace not joined");
        };
        match inbound {
            Inbound::Event { name, json, id } => {
                let payload = Payload::from_parts(json, attachments);
                socket.namespace().handler().on_event(&socket, Event { name, payload, ack: id });
            }
            Inbound::Ack { id, json } => socket.on_ack(id, Payload::from_parts(json, attachments)),
        }
    }

    fn on_text(&self, session: &ClientSession, text: &str) {
        if session.data().partial.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return protocol_error(session, "text packet while attachments were expected");
        }
        let packet = match packet::decode(text, self.config.max_attachments) {
            Ok(packet) => packet,
            Err(error) => return protocol_error(session, &error.to_string()),
        };
        METRICS.packets_in.inc();
        let (nsp, inbound, expected) = match packet {
            Packet::Connect { nsp, auth } => return self.connect(session, nsp, auth),
            Packet::Disconnect { nsp } => {
                return match session.data().socket(nsp) {
                    Some(socket) => {
                        socket.close(DisconnectReason::ClientNamespaceDisconnect);
                        self.forget_if_empty(socket.namespace());
                    }
                    None => protocol_error(session, "DISCONNECT for a namespace not joined"),
                };
            }
            Packet::Event { nsp, name, args, id, attachments } => (nsp, Inbound::Event { name, json: args, id }, attachments),
            Packet::Ack { nsp, id, args, attachments } => (nsp, Inbound::Ack { id, json: args.to_owned() }, attachments),
        };
        if expected == 0 {
            return self.dispatch(session, nsp, inbound, Vec::new());
        }
        let partial = Partial { nsp: nsp.to_owned(), kind: inbound, expected, attachments: Vec::with_capacity(expected) };
        *session.data().partial.lock().unwrap_or_else(|e| e.into_inner()) = Some(partial);
    }

    fn on_binary(&self, session: &ClientSession, bytes: Bytes) {
        let complete = {
            let mut slot = session.data().partial.lock().unwrap_or_else(|e| e.into_inner());
            let Some(partial) = slot.as_mut() else {
                drop(slot);
                return protocol_error(session, "binary message without a binary packet");
            };
            partial.attachments.push(bytes);
            if partial.attachments.len() < partial.expected {
                return;
            }
            slot.take().expect("present")
        };
        let json = match &complete.kind {
            Inbound::Event { json, .. } | Inbound::Ack { json, .. } => json,
        };
        let valid = serde_json::from_str(json)
            .ok()
            .is_some_and(|value| payload::check_placeholders(&value, complete.expected).is_ok());
        if !valid {
            return protocol_error(session, "placeholder without attachment");
        }
        self.dispatch(session, &complete.nsp, complete.kind, complete.attachments);
    }
}

impl Handler for Core {
    type Data = Client;

    fn new_data(&self) -> Client {
        Client::default()
    }

    fn on_open(&self, session: &ClientSession) {
        let session = Arc::downgrade(session);
        let timeout = self.config.connect_timeout;
        tokio::spawn(async move {
            tokio::time::sleep(timeout).await;
            if let Some(session) = session.upgrade() {
                if session.data().sockets().is_empty() {
                    tracing::debug!(sid = %session.sid(), "no namespace joined in time, closing");
                    session.close(CloseReason::ServerClose);
                }
            }
        });
    }

    fn on_message(&self, session: &ClientSession, message: Message<'_>) {
        match message {
            Message::Text(text) => self.on_text(session, text),
            Message::Binary(bytes) => self.on_binary(session, bytes),
        }
    }

    fn on_close(&self, session: &ClientSession, reason: CloseReason) {
        let sockets = std::mem::take(&mut *session.data().sockets());
        for socket in sockets {
            socket.close(reason.into());
            self.forget_if_empty(socket.namespace());
        }
    }
}

