//! A socket: one client's membership of one namespace.
//!
//! The socket is how the application talks to that client: emit events (with or without
//! an acknowledgement), answer the client's acknowledgements, join and leave rooms,
//! broadcast to others, disconnect. Every send goes through the Engine.IO session's
//! bounded queue; nothing here waits for the network.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::oneshot;

use super::namespace::{BroadcastOperator, Namespace};
use super::packet;
use super::payload::Payload;
use super::{Client, DisconnectReason, encode_outgoing};
use crate::adapter::Room;
use crate::engineio::{Outgoing, SendError, Session};
use crate::metrics::METRICS;
use crate::sid::Sid;

/// A connected socket: a cheap-to-clone handle.
#[derive(Clone)]
pub struct Socket(pub(super) Arc<SocketInner>);

pub(super) struct SocketInner {
    id: Sid,
    namespace: Namespace,
    session: Arc<Session<Client>>,
    /// The CONNECT packet's auth object, as the client wrote it.
    auth: Option<Box<str>>,
    /// What the namespace's handler attached at connect: a JSON object text. Shared, so
    /// that lending it to a plugin call copies nothing.
    data: Arc<str>,
    /// Acks the server is waiting for. A std mutex: only map operations under it.
    acks: Mutex<Acks>,
    connected: AtomicBool,
}

#[derive(Default)]
struct Acks {
    next_id: u64,
    pending: HashMap<u64, oneshot::Sender<Payload>>,
}

/// Why waiting for an acknowledgement ended without one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum AckError {
    /// The event could not be queued.
    #[error(transparent)]
    Send(#[from] SendError),
    /// The client did not acknowledge in time.
    #[error("acknowledgement timed out")]
    Timeout,
    /// The socket disconnected first.
    #[error("socket disconnected before acknowledging")]
    Disconnected,
}

impl Socket {
    pub(super) fn new(
        namespace: Namespace,
        session: Arc<Session<Client>>,
        auth: Option<Box<str>>,
        data: Option<String>,
    ) -> Socket {
        Socket(Arc::new(SocketInner {
            id: Sid::random(),
            namespace,
            session,
            auth,
            data: data.map_or_else(|| Arc::from("{}"), Arc::from),
            acks: Mutex::new(Acks::default()),
            connected: AtomicBool::new(true),
        }))
    }

    /// The socket id (also the name of its own room).
    pub fn id(&self) -> Sid {
        self.0.id
    }

    /// The namespace the socket belongs to.
    pub fn namespace(&self) -> &Namespace {
        &self.0.namespace
    }

    /// The auth object of the CONNECT packet, as JSON text; `None` if the client sent none.
    pub fn auth(&self) -> Option<&str> {
        self.0.auth.as_deref()
    }

    /// What the namespace's handler attached at connect (a JSON object text; `{}` when
    /// nothing was attached).
    pub fn data(&self) -> &str {
        &self.0.data
    }

    /// [`data`](Self::data), shared rather than borrowed.
    pub fn shared_data(&self) -> Arc<str> {
        self.0.data.clone()
    }

    /// The Engine.IO session carrying this socket.
    pub fn session(&self) -> &Arc<Session<Client>> {
        &self.0.session
    }

    /// Whether the socket is still connected.
    pub fn connected(&self) -> bool {
        self.0.connected.load(Ordering::Acquire)
    }

    /// Sends `event` to this client.
    pub fn emit(&self, event: &str, payload: &Payload) -> Result<(), SendError> {
        let text = packet::encode_event(self.0.namespace.name(), event, payload, None);
        self.send(encode_outgoing(text, payload))
    }

    /// Sends `event` to this client and waits up to `timeout` for its acknowledgement.
    pub async fn emit_with_ack(&self, event: &str, payload: &Payload, timeout: Duration) -> Result<Payload, AckError> {
        let (tx, rx) = oneshot::channel();
        let id = {
            let mut acks = self.acks();
            let id = acks.next_id;
            acks.next_id += 1;
            acks.pending.insert(id, tx);
            id
        };
        let text = packet::encode_event(self.0.namespace.name(), event, payload, Some(id));
        if let Err(error) = self.send(encode_outgoing(text, payload)) {
            self.acks().pending.remove(&id);
            return Err(error.into());
        }
        match tokio::time::timeout(timeout, rx).await {
            Ok(Ok(payload)) => Ok(payload),
            Ok(Err(_)) => Err(AckError::Disconnected),
            Err(_) => {
                self.acks().pending.remove(&id);
                Err(AckError::Timeout)
            }
        }
    }

    /// Answers the client's event `id` with `payload`.
    pub fn ack(&self, id: u64, payload: &Payload) -> Result<(), SendError> {
        let text = packet::encode_ack(self.0.namespace.name(), id, payload);
        self.send(encode_outgoing(text, payload))
    }

    /// Joins `room`, telling the namespace's handler. Returns false if the socket was
    /// already in it.
    pub fn join(&self, room: impl Into<Room>) -> bool {
        let room = room.into();
        let added = self.0.namespace.adapter().join(self.0.id, room.clone());
        if added && self.connected() {
            self.0.namespace.handler().on_join(self, &room);
        }
        added
    }

    /// Leaves `room`, telling the namespace's handler. Returns false if the socket was not
    /// in it.
    pub fn leave(&self, room: &str) -> bool {
        let removed = self.0.namespace.adapter().leave(self.0.id, room);
        if removed && self.connected() {
            self.0.namespace.handler().on_leave(self, room);
        }
        removed
    }

    /// The rooms the socket is in, its own included.
    pub fn rooms(&self) -> Vec<Room> {
        self.0.namespace.adapter().rooms_of(self.0.id)
    }

    /// A broadcast to the sockets in `room`, this one excluded.
    pub fn to(&self, room: impl Into<Room>) -> BroadcastOperator<'_> {
        self.broadcast().to(room)
    }

    /// A broadcast to every other socket of the namespace.
    pub fn broadcast(&self) -> BroadcastOperator<'_> {
        self.0.namespace.broadcast_from(Some(self.0.id))
    }

    /// Removes the socket from its namespace, telling the client (`DISCONNECT`). The
    /// Engine.IO session stays open for the client's other namespaces.
    pub fn disconnect(&self) {
        if self.connected() {
            let _ = self.send(Outgoing::One(crate::engineio::Frame::Text(
                packet::encode_disconnect(self.0.namespace.name()).into(),
            )));
            self.close(DisconnectReason::ServerNamespaceDisconnect);
        }
    }

    pub(super) fn send(&self, out: Outgoing) -> Result<(), SendError> {
        METRICS.deliveries.inc();
        self.0.session.send(out)
    }

    /// The client acknowledged the server's event `id`.
    pub(super) fn on_ack(&self, id: u64, payload: Payload) {
        if let Some(waiting) = self.acks().pending.remove(&id) {
            let _ = waiting.send(payload);
        }
    }

    /// Ends the socket: the handler hears of it while the rooms are still joined (so it
    /// can tell the rooms), then the socket leaves them all and its waiting acks fail.
    pub(super) fn close(&self, reason: DisconnectReason) {
        if !self.0.connected.swap(false, Ordering::AcqRel) {
            return;
        }
        self.0.session.data().remove(self.0.namespace.name());
        self.0.namespace.remove(self, reason);
        self.acks().pending.clear();
        METRICS.sockets.dec();
    }

    fn acks(&self) -> std::sync::MutexGuard<'_, Acks> {
        self.0.acks.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl std::fmt::Debug for Socket {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket")
            .field("id", &self.0.id)
            .field("namespace", &self.0.namespace.name())
            .finish_non_exhaustive()
    }
}
