//! The Engine.IO side of Socket.IO: [`Core`] is the Engine.IO [`Handler`], and each
//! session carries a [`Client`] that multiplexes the namespaces the client has joined and
//! reassembles binary packets.
//!
//! Every packet the reference implementation would refuse closes the session here, in
//! one place ([`protocol_error`]); an unknown namespace is answered with
//! `CONNECT_ERROR {"message":"Invalid namespace"}`.

use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use regex::Regex;
use smallvec::SmallVec;

use super::packet::{self, Packet};
use super::payload::{self, Payload};
use super::{
    ConnectRequest, DisconnectReason, Event, Namespace, NamespaceHandler, SocketIoConfig, Staged, new_adapter,
};
use super::namespace::Registry;
use super::socket::Socket;
use crate::engineio::{CloseReason, Frame, Handler, Message, Outgoing, Session};
use crate::metrics::METRICS;

/// The Engine.IO handler behind [`SocketIo`].
pub struct Core {
    pub(super) config: SocketIoConfig,
    /// Namespaces by name: the configured ones and the dynamic ones created so far.
    pub(super) named: Arc<Registry>,
    /// Dynamic namespace patterns, in order. A std lock, held to match a name.
    pub(super) dynamic: RwLock<Vec<(Regex, Arc<dyn NamespaceHandler>)>>,
}

/// One Engine.IO session's Socket.IO state.
#[derive(Default)]
pub struct Client {
    /// Connected namespaces. A handful per client at most, so a vector. A std mutex:
    /// only ever locked for a lookup or an update.
    sockets: Mutex<Vec<Socket>>,
    /// A binary packet waiting for its attachments.
    partial: Mutex<Option<Partial>>,
    /// The events of the last read, if a handler put them off: settled before the client
    /// is acted on again, so nothing it sends later overtakes them.
    staged: Mutex<Option<Arc<dyn Staged>>>,
}

impl Client {
    pub(super) fn socket(&self, nsp: &str) -> Option<Socket> {
        self.sockets().iter().find(|s| s.namespace().name() == nsp).cloned()
    }

    pub(super) fn remove(&self, nsp: &str) {
        self.sockets().retain(|s| s.namespace().name() != nsp);
    }

    pub(super) fn sockets(&self) -> std::sync::MutexGuard<'_, Vec<Socket>> {
        self.sockets.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Carries out the events put off at the last read, if they are still waiting.
    fn settle(&self) {
        let staged = self.staged.lock().unwrap_or_else(|e| e.into_inner()).take();
        if let Some(staged) = staged {
            staged.settle();
        }
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

/// Events of one socket that arrived together, held until the next packet that is not
/// one of them and then handed to the namespace's handler in one call: the plugin chain
/// then enters each plugin once for all of them.
#[derive(Default)]
struct Batch {
    socket: Option<Socket>,
    /// Inline room for one: most messages arrive alone, and then nothing is allocated.
    events: SmallVec<[Event; 1]>,
}

impl Batch {
    fn push(&mut self, socket: Socket, event: Event) {
        if self.socket.as_ref().is_some_and(|held| held.id() != socket.id()) {
            self.flush();
        }
        // A room request changes what plugins see of the socket (`rooms_of`, presence):
        // the events after it must not be decided before it is carried out.
        let room_request = event.name == "join" || event.name == "leave";
        self.socket = Some(socket);
        self.events.push(event);
        if room_request {
            self.flush();
        }
    }

    /// Hands the held events on, then closes `session` because the client broke the
    /// protocol: what it sent before the error still counts, nothing after it does.
    fn fail(&mut self, session: &ClientSession, why: &str) {
        self.flush();
        protocol_error(session, why);
    }

    /// Hands the held events on; call before acting on anything else, to keep the order
    /// in which the client sent things.
    fn flush(&mut self) {
        let Some(socket) = self.socket.take() else { return };
        hand_on(&socket, std::mem::take(&mut self.events));
    }

    /// At the end of a read: the held events may be put off by their handler, to be
    /// decided with other sockets'. The client then settles them before anything else.
    fn finish(mut self, client: &Client) {
        let Some(socket) = self.socket.take() else { return };
        match socket.namespace().handler().stage_events(&socket, std::mem::take(&mut self.events)) {
            Ok(staged) => *client.staged.lock().unwrap_or_else(|e| e.into_inner()) = Some(staged),
            Err(events) => hand_on(&socket, events),
        }
    }
}

/// Hands `events` of `socket` to its namespace's handler.
fn hand_on(socket: &Socket, mut events: SmallVec<[Event; 1]>) {
    let handler = socket.namespace().handler();
    match events.len() {
        1 => handler.on_event(socket, events.pop().expect("one event")),
        _ => handler.on_events(socket, events.into_vec()),
    }
}

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
        let registry = Some(Arc::downgrade(&self.named));
        let ns = named.entry(name.to_owned()).or_insert_with(|| Namespace::new(name.to_owned(), registry, handler, new_adapter()));
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

    /// Acts on a complete event or acknowledgement. An event joins `batch`; anything else
    /// first hands the batch on.
    fn dispatch(&self, session: &ClientSession, nsp: &str, inbound: Inbound, attachments: Vec<Bytes>, batch: &mut Batch) {
        let Some(socket) = session.data().socket(nsp) else {
            return batch.fail(session, "packet for a namespace not joined");
        };
        match inbound {
            Inbound::Event { name, json, id } => {
                let payload = Payload::from_parts(json, attachments);
                batch.push(socket, Event { name, payload, ack: id });
            }
            Inbound::Ack { id, json } => {
                batch.flush();
                socket.on_ack(id, Payload::from_parts(json, attachments));
            }
        }
    }

    fn on_text(&self, session: &ClientSession, text: &str, batch: &mut Batch) {
        if session.data().partial.lock().unwrap_or_else(|e| e.into_inner()).is_some() {
            return batch.fail(session, "text packet while attachments were expected");
        }
        let packet = match packet::decode(text, self.config.max_attachments) {
            Ok(packet) => packet,
            Err(error) => {
                return batch.fail(session, &error.to_string());
            }
        };
        METRICS.packets_in.inc();
        if !matches!(packet, Packet::Event { .. }) {
            batch.flush();
        }
        let (nsp, inbound, expected) = match packet {
            Packet::Connect { nsp, auth } => return self.connect(session, nsp, auth),
            Packet::Disconnect { nsp } => {
                return match session.data().socket(nsp) {
                    Some(socket) => socket.close(DisconnectReason::ClientNamespaceDisconnect),
                    None => protocol_error(session, "DISCONNECT for a namespace not joined"),
                };
            }
            Packet::Event { nsp, name, args, id, attachments } => (nsp, Inbound::Event { name, json: args, id }, attachments),
            Packet::Ack { nsp, id, args, attachments } => (nsp, Inbound::Ack { id, json: args.to_owned() }, attachments),
        };
        if expected == 0 {
            return self.dispatch(session, nsp, inbound, Vec::new(), batch);
        }
        batch.flush();
        let partial = Partial { nsp: nsp.to_owned(), kind: inbound, expected, attachments: Vec::with_capacity(expected) };
        *session.data().partial.lock().unwrap_or_else(|e| e.into_inner()) = Some(partial);
    }

    fn on_binary(&self, session: &ClientSession, bytes: Bytes, batch: &mut Batch) {
        // Attachments only follow the packet that announced them, which handed any batch on.
        let complete = {
            let mut slot = session.data().partial.lock().unwrap_or_else(|e| e.into_inner());
            let Some(partial) = slot.as_mut() else {
                drop(slot);
                return batch.fail(session, "binary message without a binary packet");
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
            return batch.fail(session, "placeholder without attachment");
        }
        self.dispatch(session, &complete.nsp, complete.kind, complete.attachments, batch);
    }

    fn on_one(&self, session: &ClientSession, message: Message<'_>, batch: &mut Batch) {
        match message {
            Message::Text(text) => self.on_text(session, text, batch),
            Message::Binary(bytes) => self.on_binary(session, bytes, batch),
        }
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
            let Some(session) = session.upgrade() else { return };
            // Read first, close after: the data's guard must be gone before `close`,
            // which takes it again (in an `if let` chain it would live through the block).
            let joined_none = session.data().sockets().is_empty();
            if joined_none {
                tracing::debug!(sid = %session.sid(), "no namespace joined in time, closing");
                session.close(CloseReason::ServerClose);
            }
        });
    }

    fn on_message(&self, session: &ClientSession, message: Message<'_>) {
        self.on_messages(session, std::iter::once(message));
    }

    /// Consecutive events of one socket go to its namespace's handler together.
    fn on_messages<'a>(&self, session: &ClientSession, messages: impl Iterator<Item = Message<'a>>) {
        session.data().settle();
        let mut batch = Batch::default();
        for message in messages {
            // A protocol error closed the session: nothing after it counts (what came
            // before was handed on when the error was found).
            if session.is_closed() {
                break;
            }
            self.on_one(session, message, &mut batch);
        }
        batch.finish(session.data());
    }

    fn on_close(&self, session: &ClientSession, reason: CloseReason) {
        // What the client sent before the close still counts, even if the stage is
        // working on it on another thread right now: that is waited for.
        session.data().settle();
        let sockets = std::mem::take(&mut *session.data().sockets());
        for socket in sockets {
            socket.close(reason.into());
        }
    }
}
