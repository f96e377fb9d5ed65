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

mod client;
mod namespace;
pub mod packet;
mod payload;
mod socket;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use http::Request;
use hyper::body::Incoming as IncomingBody;
use regex::Regex;

pub use namespace::{BroadcastOperator, ConnectError, ConnectRequest, Event, Namespace, NamespaceHandler, Staged};
pub use payload::{Payload, PayloadError};
pub use client::{Client, Core};
pub use socket::{AckError, Socket};

use crate::adapter::{Adapter, MemoryAdapter};
use crate::engineio::{CloseReason, Engine, EngineConfig, Frame, HttpResponse, Outgoing};

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
            .map(|(name, handler)| (name.clone(), Namespace::new(name, None, handler, new_adapter())))
            .collect();
        let core = Core { config: self.config, named: Arc::new(RwLock::new(named)), dynamic: RwLock::new(self.dynamic) };
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
        let ns = Namespace::new(name.to_owned(), None, handler, new_adapter());
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


