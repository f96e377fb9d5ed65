//! One Engine.IO session: its id, its outbound queue ([`Outbox`]), which transport
//! currently carries it, and how it ends.
//!
//! [`Session::send`] never waits: a full queue means the client cannot keep up, and the
//! session is closed with [`CloseReason::SlowConsumer`] rather than letting memory grow or
//! dropping messages silently.
//!
//! A session ends by cancellation: [`Session::close`] records the first reason and cancels
//! a token that the transports and the heartbeat task watch. The engine's per-session task
//! then removes the session and tells the handler, in one place.

use std::sync::atomic::{AtomicBool, AtomicU8, AtomicU64, Ordering};
use std::sync::{LazyLock, OnceLock};

use tokio::sync::Notify;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::handshake::Handshake;
use super::outbox::{Full, Outbox, Outgoing};
use crate::sid::Sid;

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

/// One Engine.IO session. `D` is the per-session state of the layer above.
pub struct Session<D> {
    sid: Sid,
    data: D,
    handshake: Handshake,
    outbox: Outbox,
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
            outbox: Outbox::new(queue),
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
        match self.outbox.push(out) {
            Ok(()) => Ok(()),
            Err(Full) if self.is_closed() => Err(SendError::Closed),
            Err(Full) => {
                tracing::warn!(sid = %self.sid, "outbound queue full, closing slow consumer");
                crate::metrics::METRICS.slow_consumers.inc();
                self.close(CloseReason::SlowConsumer);
                Err(SendError::SlowConsumer)
            }
        }
    }

    /// The outbound queue, for the transport that writes to the client.
    pub(crate) fn outbox(&self) -> &Outbox {
        &self.outbox
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
        self.outbox.read_end_taken()
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
    use crate::engineio::{Frame, Headers};

    fn session(limit: usize) -> Session<()> {
        let handshake = Handshake { query: String::new(), headers: Headers::default(), remote: None };
        Session::new(Sid::random(), (), handshake, Transport::WebSocket, limit)
    }

    fn text(s: &'static str) -> Outgoing {
        Outgoing::One(Frame::Text(s.into()))
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
}
