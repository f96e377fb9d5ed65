//! One Engine.IO session: its id, its bounded outbound queue, which transport currently
//! owns the queue, and how it ends.
//!
//! The queue has exactly one reader at a time. Whoever writes to the client — a pending
//! long-poll GET or the WebSocket task — *takes* the read end ([`ReadEnd`]) and gives it
//! back when done, so an overlapping poll is detected by finding it taken. Everyone else
//! enqueues through [`Session::send`], which never waits: a full queue means the client
//! cannot keep up, and the session is closed with [`CloseReason::SlowConsumer`] rather than
//! letting memory grow or dropping messages silently.
//!
//! The queue is a `VecDeque` under a mutex that is held for a push or a pop, never across
//! an `.await`. It allocates nothing until something is queued and gives its memory back
//! after a burst, so an idle session costs a few hundred bytes, not a channel's first
//! block.
//!
//! A session ends by cancellation: [`Session::close`] records the first reason and cancels
//! a token that the transports and the heartbeat task watch. The engine's per-session task
//! then removes the session and tells the handler, in one place.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::LazyLock;
use std::sync::{Arc, Mutex, OnceLock};

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::packet::Frame;
use crate::sid::Sid;

/// What goes into a session's queue: one frame, or frames that must reach the client
/// back to back (a Socket.IO packet and its binary attachments). Either way only
/// reference counts are copied, so one encoded broadcast serves every recipient.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A single frame.
    One(Frame),
    /// Frames that must not be interleaved with anything else.
    Many(Arc<[Frame]>),
}

impl Outgoing {
    /// The frames, in order.
    pub fn frames(&self) -> &[Frame] {
        match self {
            Outgoing::One(frame) => std::slice::from_ref(frame),
            Outgoing::Many(frames) => frames,
        }
    }
}

/// Why a session ended. The Socket.IO layer turns it into a disconnect reason.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// The client sent a close packet.
    ClientClose,
    /// The client's connection went away: WebSocket closed, long-poll aborted.
    TransportClose,
    /// The client broke the protocol: malformed packet, overlapping requests, oversized
    /// payload.
    TransportError,
    /// No pong within `ping_timeout` of a ping.
    PingTimeout,
    /// The outbound queue was full: the client reads slower than it is sent to.
    SlowConsumer,
    /// The server ended the session (application decision, connect timeout).
    ServerClose,
    /// The server is shutting down.
    Shutdown,
}

impl CloseReason {
    /// The reason as Socket.IO names it on the server side.
    pub fn as_str(self) -> &'static str {
        match self {
            CloseReason::ClientClose => "transport close",
            CloseReason::TransportClose => "transport close",
            CloseReason::TransportError => "transport error",
            CloseReason::PingTimeout => "ping timeout",
            CloseReason::SlowConsumer => "slow consumer",
            CloseReason::ServerClose => "forced server close",
            CloseReason::Shutdown => "server shutting down",
        }
    }
}

/// The session's queue is gone or full; the message was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// The session is closed.
    #[error("session closed")]
    Closed,
    /// The queue was full; the session has been closed as a slow consumer.
    #[error("outbound queue full: session closed as a slow consumer")]
    SlowConsumer,
}

/// How long a session closed by the client over polling stays reachable for the poll
/// that the client may already have sent (see [`Session::close_at_next_poll`]).
pub(crate) const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The reference point for the deadlines stored in atomics.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

fn micros_since_epoch(at: Instant) -> u64 {
    at.saturating_duration_since(*EPOCH).as_micros() as u64
}

/// The transport currently carrying the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Transport {
    /// HTTP long-polling.
    Polling = 0,
    /// Long-polling, with a WebSocket probing to take over.
    Upgrading = 1,
    /// WebSocket (from the start or after an upgrade).
    WebSocket = 2,
}

/// The HTTP request that opened the session, as the layers above may want to see it.
#[derive(Debug)]
pub struct Handshake {
    /// The raw query string of the first request.
    pub query: String,
    /// The headers of the first request.
    pub headers: Headers,
    /// The peer's address.
    pub remote: Option<SocketAddr>,
}

/// Slots an emptied queue keeps. A connection that is sent to now and then reuses them;
/// one that took a burst gives the rest back.
const KEPT_QUEUE_CAPACITY: usize = 8;

/// A session's outbound queue.
struct Queue {
    items: VecDeque<Outgoing>,
    /// Whether a transport holds the [`ReadEnd`].
    read_end_taken: bool,
}

/// The right to read a session's queue; one exists per session at a time. Taken with
/// `take_rx`, given back with `return_rx`.
#[must_use = "the read end must be given back with `return_rx`"]
#[derive(Debug)]
pub(crate) struct ReadEnd {
    _private: (),
}

/// The headers a session keeps from its first request, for the layers above (a plugin's
/// `on_connect` sees them at every CONNECT, however late). Names in lower case; values as
/// text (bytes that are not UTF-8 become U+FFFD).
///
/// Packed into one exactly sized allocation, `name NUL value NUL ...` (HTTP forbids NUL
/// in both): a session lives as long as its connection, and a `HeaderMap` would cost
/// it a hash index, a bucket per header and an allocation per value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    packed: Box<str>,
}

impl Headers {
    /// A copy of `map` (never a slice of the connection's read buffer, which it would keep
    /// alive).
    pub fn from_map(map: &http::HeaderMap) -> Headers {
        let mut packed = String::with_capacity(map.iter().map(|(n, v)| n.as_str().len() + v.len() + 2).sum());
        for (name, value) in map {
            packed.push_str(name.as_str());
            packed.push('\0');
            packed.push_str(&String::from_utf8_lossy(value.as_bytes()));
            packed.push('\0');
        }
        Headers { packed: packed.into_boxed_str() }
    }

    /// The headers in request order, a repeated name once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut parts = self.packed.split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    /// The first value of the header `name` (lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

/// One Engine.IO session. `D` is the per-session state of the layer above.
pub struct Session<D> {
    sid: Sid,
    data: D,
    handshake: Handshake,
    /// The outbound queue. A std mutex, locked for one push or pop at a time.
    queue: Mutex<Queue>,
    /// Most items the queue holds before the session is closed as a slow consumer.
    queue_limit: usize,
    /// Signalled when an item lands in an empty queue: the reader may be asleep.
    queued: Notify,
    /// Signalled when a transport gives the read end back (an upgrade waits for the last
    /// poll to hand it over).
    rx_returned: Notify,
    transport: AtomicU8,
    /// Set while a POST is being read, to detect overlapping POSTs.
    posting: AtomicBool,
    /// Signalled on every pong.
    pong: Notify,
    /// When the pong for the outstanding ping is due, in microseconds since [`EPOCH`];
    /// 0 while no ping is outstanding. Lets a request that arrives after the deadline see
    /// the session as dead even if the heartbeat task's timer has not fired yet.
    pong_due: AtomicU64,
    /// The client sent a close packet over polling while no poll was pending: the session
    /// ends when the next poll is answered (with a noop), or after [`CLOSE_GRACE`].
    closing: AtomicBool,
    closed: CancellationToken,
    reason: OnceLock<CloseReason>,
}

impl<D> Session<D> {
    pub(crate) fn new(
        sid: Sid,
        data: D,
        handshake: Handshake,
        transport: Transport,
        queue: usize,
    ) -> Session<D> {
        Session {
            sid,
            data,
            handshake,
            queue: Mutex::new(Queue { items: VecDeque::new(), read_end_taken: false }),
            queue_limit: queue.max(1),
            queued: Notify::new(),
            rx_returned: Notify::new(),
            transport: AtomicU8::new(transport as u8),
            posting: AtomicBool::new(false),
            pong: Notify::new(),
            pong_due: AtomicU64::new(0),
            closing: AtomicBool::new(false),
            closed: CancellationToken::new(),
            reason: OnceLock::new(),
        }
    }

    /// The session id.
    pub fn sid(&self) -> Sid {
        self.sid
    }

    /// The state of the layer above.
    pub fn data(&self) -> &D {
        &self.data
    }

    /// The request that opened the session.
    pub fn handshake(&self) -> &Handshake {
        &self.handshake
    }

    /// Queues `out` for the client without waiting. A full queue closes the session as a
    /// slow consumer: the message is refused loudly, never dropped in silence.
    pub fn send(&self, out: Outgoing) -> Result<(), SendError> {
        let mut queue = self.lock_queue();
        if queue.items.len() >= self.queue_limit {
            drop(queue);
            if self.is_closed() {
                return Err(SendError::Closed);
            }
            tracing::warn!(sid = %self.sid, "outbound queue full, closing slow consumer");
            crate::metrics::METRICS.slow_consumers.inc();
            self.close(CloseReason::SlowConsumer);
            return Err(SendError::SlowConsumer);
        }
        let was_empty = queue.items.is_empty();
        queue.items.push_back(out);
        drop(queue);
        // A reader only sleeps on an empty queue, so only the first item needs to wake it.
        if was_empty {
            self.queued.notify_one();
        }
        Ok(())
    }

    /// Ends the session. The first reason given wins; later calls do nothing.
    pub fn close(&self, reason: CloseReason) {
        if self.reason.set(reason).is_ok() {
            self.closed.cancel();
        }
    }

    /// Whether [`close`](Self::close) has been called.
    pub fn is_closed(&self) -> bool {
        self.closed.is_cancelled()
    }

    /// Why the session ended, once it has.
    pub fn close_reason(&self) -> Option<CloseReason> {
        self.reason.get().copied()
    }

    /// The transport currently carrying the session.
    pub fn transport(&self) -> Transport {
        match self.transport.load(Ordering::Acquire) {
            0 => Transport::Polling,
            1 => Transport::Upgrading,
            _ => Transport::WebSocket,
        }
    }

    pub(crate) fn set_transport(&self, to: Transport) {
        self.transport.store(to as u8, Ordering::Release);
    }

    /// Moves from `from` to `to` if the session is still in `from`.
    pub(crate) fn switch_transport(&self, from: Transport, to: Transport) -> bool {
        self.transport
            .compare_exchange(from as u8, to as u8, Ordering::AcqRel, Ordering::Acquire)
            .is_ok()
    }

    pub(crate) fn closed_token(&self) -> &CancellationToken {
        &self.closed
    }

    fn lock_queue(&self) -> std::sync::MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Takes the queue's read end, unless a transport already holds it.
    pub(crate) fn take_rx(&self) -> Option<ReadEnd> {
        let mut queue = self.lock_queue();
        (!std::mem::replace(&mut queue.read_end_taken, true)).then_some(ReadEnd { _private: () })
    }

    /// Gives the read end back.
    pub(crate) fn return_rx(&self, rx: ReadEnd) {
        let ReadEnd { _private: () } = rx;
        self.lock_queue().read_end_taken = false;
        self.rx_returned.notify_one();
    }

    /// The next queued item, waiting for one.
    pub(crate) async fn recv(&self, rx: &mut ReadEnd) -> Outgoing {
        loop {
            let queued = self.queued.notified();
            if let Some(out) = self.try_recv(rx) {
                return out;
            }
            queued.await;
        }
    }

    /// The next queued item, if there is one. Draining the queue after a burst gives its
    /// memory back.
    pub(crate) fn try_recv(&self, _rx: &mut ReadEnd) -> Option<Outgoing> {
        let mut queue = self.lock_queue();
        let out = queue.items.pop_front();
        if queue.items.is_empty() && queue.items.capacity() > KEPT_QUEUE_CAPACITY {
            queue.items = VecDeque::new();
        }
        out
    }

    /// Waits until no transport holds the read end, then takes it.
    pub(crate) async fn take_rx_when_free(&self) -> ReadEnd {
        loop {
            let returned = self.rx_returned.notified();
            if let Some(rx) = self.take_rx() {
                return rx;
            }
            returned.await;
        }
    }

    /// Marks a POST as being read; false if one already is (an overlap).
    pub(crate) fn begin_post(&self) -> bool {
        !self.posting.swap(true, Ordering::AcqRel)
    }

    pub(crate) fn end_post(&self) {
        self.posting.store(false, Ordering::Release);
    }

    pub(crate) fn on_pong(&self) {
        self.pong_due.store(0, Ordering::Release);
        self.pong.notify_one();
    }

    /// A ping has been sent; its pong is due at `due`.
    pub(crate) fn expect_pong_by(&self, due: Instant) {
        self.pong_due.store(micros_since_epoch(due).max(1), Ordering::Release);
    }

    /// Whether a pong is overdue at `now`.
    pub(crate) fn pong_overdue(&self, now: Instant) -> bool {
        let due = self.pong_due.load(Ordering::Acquire);
        due != 0 && micros_since_epoch(now) >= due
    }

    /// Ends the session at the next poll (see the `closing` field), or after
    /// [`CLOSE_GRACE`] if none comes.
    pub(crate) fn close_at_next_poll(self: &std::sync::Arc<Self>)
    where
        D: Send + Sync + 'static,
    {
        self.closing.store(true, Ordering::Release);
        let session = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep(CLOSE_GRACE).await;
            session.close(CloseReason::ClientClose);
        });
    }

    /// Whether the session waits for a poll to end it; clears the mark.
    pub(crate) fn take_closing(&self) -> bool {
        self.closing.swap(false, Ordering::AcqRel)
    }

    /// Whether a poll is pending (holds the queue).
    pub(crate) fn poll_pending(&self) -> bool {
        self.lock_queue().read_end_taken
    }

    pub(crate) async fn pong_received(&self) {
        self.pong.notified().await
    }
}

impl<D> std::fmt::Debug for Session<D> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("sid", &self.sid)
            .field("transport", &self.transport())
            .field("closed", &self.close_reason())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(limit: usize) -> Session<()> {
        let handshake = Handshake { query: String::new(), headers: Headers::default(), remote: None };
        Session::new(Sid::random(), (), handshake, Transport::WebSocket, limit)
    }

    fn text(s: &'static str) -> Outgoing {
        Outgoing::One(Frame::Text(s.into()))
    }

    fn queued_capacity(session: &Session<()>) -> usize {
        session.lock_queue().items.capacity()
    }

    #[test]
    fn queue_holds_memory_only_while_it_needs_it() {
        let session = session(1024);
        assert_eq!(queued_capacity(&session), 0, "a new session allocates no queue");
        let mut rx = session.take_rx().expect("free");
        for _ in 0..500 {
            session.send(text("2")).expect("room in the queue");
        }
        assert!(queued_capacity(&session) >= 500);
        let mut read = 0;
        while session.try_recv(&mut rx).is_some() {
            read += 1;
        }
        assert_eq!(read, 500, "everything queued is read, in one piece");
        assert_eq!(queued_capacity(&session), 0, "a drained burst gives its memory back");
        session.send(text("2")).unwrap();
        session.try_recv(&mut rx).unwrap();
        assert!(queued_capacity(&session) <= KEPT_QUEUE_CAPACITY, "small use keeps a small buffer");
        session.return_rx(rx);
    }

    #[test]
    fn headers_are_packed_copies_in_request_order() {
        use http::header::{self, HeaderValue};
        // hyper parses header values as slices of the connection's read buffer.
        let buffer = bytes::Bytes::from(vec![b'x'; 8192]);
        let mut map = http::HeaderMap::new();
        map.insert(header::USER_AGENT, HeaderValue::from_maybe_shared(buffer.slice(0..16)).unwrap());
        map.append(header::ACCEPT, HeaderValue::from_static("text/plain"));
        map.append(header::ACCEPT, HeaderValue::from_static("*/*"));
        map.insert("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let headers = Headers::from_map(&map);
        let kept: Vec<_> = headers.iter().collect();
        assert_eq!(
            kept,
            [("user-agent", "xxxxxxxxxxxxxxxx"), ("accept", "text/plain"), ("accept", "*/*"), ("x-raw", "caf\u{fffd}")]
        );
        assert_eq!(headers.get("accept"), Some("text/plain"));
        assert_eq!(headers.get("cookie"), None);
        assert!(!buffer.as_ptr_range().contains(&headers.get("user-agent").unwrap().as_ptr()), "copied, not a slice");
        assert_eq!(Headers::default().iter().count(), 0);
    }

    #[test]
    fn one_read_end_at_a_time() {
        let session = session(4);
        let rx = session.take_rx().expect("free");
        assert!(session.take_rx().is_none(), "the read end is taken");
        assert!(session.poll_pending());
        session.return_rx(rx);
        assert!(!session.poll_pending());
        let rx = session.take_rx().expect("given back");
        session.return_rx(rx);
    }

    #[test]
    fn a_full_queue_closes_the_session_as_a_slow_consumer() {
        let session = session(2);
        session.send(text("a")).unwrap();
        session.send(text("b")).unwrap();
        assert_eq!(session.send(text("c")), Err(SendError::SlowConsumer));
        assert_eq!(session.close_reason(), Some(CloseReason::SlowConsumer));
        assert_eq!(session.send(text("d")), Err(SendError::Closed), "still refused once closed");
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_for_the_first_item_and_reads_in_order() {
        let session = Arc::new(session(16));
        let reader = {
            let session = session.clone();
            tokio::spawn(async move {
                let mut rx = session.take_rx().expect("free");
                let mut got = Vec::new();
                while got.len() < 3 {
                    let out = session.recv(&mut rx).await;
                    if let Frame::Text(text) = &out.frames()[0] {
                        got.push(text.to_string());
                    }
                }
                session.return_rx(rx);
                got
            })
        };
        tokio::task::yield_now().await;
        for s in ["a", "b", "c"] {
            session.send(text(s)).unwrap();
        }
        assert_eq!(reader.await.unwrap(), ["a", "b", "c"]);
    }
}
