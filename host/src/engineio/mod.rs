//! Engine.IO v4: sessions over HTTP long-polling and WebSocket, the upgrade between them,
//! the server heartbeat and payload limits.
//!
//! This layer owns everything below the Socket.IO packet: it turns HTTP requests and
//! WebSocket frames into [`Message`]s for a [`Handler`], and queues the handler's
//! [`Outgoing`] frames back to the client on whichever transport currently carries the
//! session. It knows nothing of namespaces, rooms or plugins.
//!
//! Requests are verified in the order the Node.js server uses, and refused with its error
//! codes ([`RequestError`]), so that clients and tools see the same answers.

mod error;
mod handshake;
mod outbox;
pub mod packet;
mod polling;
mod session;
mod websocket;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming as IncomingBody;
use smallvec::SmallVec;
use tokio_util::task::TaskTracker;

pub use error::RequestError;
pub use packet::Frame;
pub use handshake::{Handshake, Headers};
pub use outbox::Outgoing;
pub use session::{CloseReason, SendError, Session, Transport};
pub use websocket::MAX_READ_BATCH;

use crate::metrics::METRICS;
use crate::sid::{Sid, SidMap};
use packet::Incoming;

/// The HTTP response type of every route.
pub type HttpResponse = Response<Full<Bytes>>;

/// Engine.IO settings. Every field is reloaded only at startup.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// How often the server pings (`pingInterval`).
    pub ping_interval: Duration,
    /// How long the client has to answer a ping (`pingTimeout`).
    pub ping_timeout: Duration,
    /// How long a WebSocket may take to complete an upgrade.
    pub upgrade_timeout: Duration,
    /// Largest message or POST body accepted from a client (`maxPayload`).
    pub max_payload: usize,
    /// Whether clients may use HTTP long-polling.
    pub polling: bool,
    /// Whether clients may use WebSocket.
    pub websocket: bool,
    /// Origins allowed to connect; empty allows any. A request whose `Origin` header is
    /// not listed is refused with 403 Forbidden.
    pub allowed_origins: Vec<String>,
    /// Capacity of each session's outbound queue, in packets.
    pub outbound_queue: usize,
}

impl Default for EngineConfig {
    /// The defaults of the Node.js server.
    fn default() -> EngineConfig {
        EngineConfig {
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(20_000),
            upgrade_timeout: Duration::from_millis(10_000),
            max_payload: 1_000_000,
            polling: true,
            websocket: true,
            allowed_origins: Vec::new(),
            outbound_queue: 1024,
        }
    }
}

/// A message from the client for the layer above.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message<'a> {
    /// A text message (the data of a `4` packet).
    Text(&'a str),
    /// A binary message.
    Binary(Bytes),
}

/// The layer above Engine.IO: told when sessions open, receive and close.
///
/// Calls for one session never overlap and arrive in the order the client sent them.
pub trait Handler: Send + Sync + 'static {
    /// Per-session state, stored inside the [`Session`].
    type Data: Send + Sync + 'static;

    /// Builds the state of a new session.
    fn new_data(&self) -> Self::Data;

    /// A session has been opened and its open packet queued.
    fn on_open(&self, session: &Arc<Session<Self::Data>>);

    /// A message arrived.
    fn on_message(&self, session: &Arc<Session<Self::Data>>, message: Message<'_>);

    /// Messages that arrived together (read at once from a WebSocket, or one polling
    /// request's payload), in order. A handler that does better with several at once
    /// overrides this; by default each goes to [`on_message`](Self::on_message), until
    /// one closes the session (a protocol error): the rest are not the client's any more.
    fn on_messages<'a>(&self, session: &Arc<Session<Self::Data>>, messages: impl Iterator<Item = Message<'a>>) {
        for message in messages {
            if session.is_closed() {
                return;
            }
            self.on_message(session, message);
        }
    }

    /// The session has ended; it is no longer reachable.
    fn on_close(&self, session: &Arc<Session<Self::Data>>, reason: CloseReason);
}

/// The Engine.IO server: a cheap-to-clone handle.
pub struct Engine<H: Handler> {
    inner: Arc<Inner<H>>,
}

impl<H: Handler> Clone for Engine<H> {
    fn clone(&self) -> Self {
        Engine { inner: self.inner.clone() }
    }
}

struct Inner<H: Handler> {
    config: EngineConfig,
    handler: H,
    /// Live sessions. A std lock: lookups and inserts are short and never await.
    sessions: RwLock<SidMap<Arc<Session<H::Data>>>>,
    /// Every task a session spawns, so shutdown can wait for them.
    tasks: TaskTracker,
}

/// The query parameters Engine.IO reads.
#[derive(Debug, Default)]
struct Query<'a> {
    eio: Option<&'a str>,
    transport: Option<&'a str>,
    sid: Option<&'a str>,
}

impl<'a> Query<'a> {
    fn parse(query: &'a str) -> Query<'a> {
        let mut q = Query::default();
        for pair in query.split('&') {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            match key {
                "EIO" => q.eio = Some(value),
                "transport" => q.transport = Some(value),
                "sid" => q.sid = Some(value),
                _ => {}
            }
        }
        q
    }
}

impl<H: Handler> Engine<H> {
    /// A new engine serving `handler`.
    pub fn new(config: EngineConfig, handler: H) -> Engine<H> {
        Engine {
            inner: Arc::new(Inner {
                config,
                handler,
                sessions: RwLock::new(SidMap::default()),
                tasks: TaskTracker::new(),
            }),
        }
    }

    /// The handler above this engine.
    pub fn handler(&self) -> &H {
        &self.inner.handler
    }

    /// The engine's settings.
    pub fn config(&self) -> &EngineConfig {
        &self.inner.config
    }

    /// Number of live sessions.
    pub fn session_count(&self) -> usize {
        self.inner.sessions.read().unwrap_or_else(|e| e.into_inner()).len()
    }

    /// Closes every session (WebSocket close frames, `1` to pending polls) and waits, up
    /// to `grace`, for their tasks to finish.
    pub async fn close_all(&self, grace: Duration) {
        let sessions: Vec<_> =
            self.inner.sessions.read().unwrap_or_else(|e| e.into_inner()).values().cloned().collect();
        for session in sessions {
            session.close(CloseReason::Shutdown);
        }
        self.inner.tasks.close();
        let _ = tokio::time::timeout(grace, self.inner.tasks.wait()).await;
    }

    /// Answers one HTTP request to the Engine.IO path.
    pub async fn handle(&self, req: Request<IncomingBody>, remote: Option<SocketAddr>) -> HttpResponse {
        let origin = req.headers().get(header::ORIGIN).cloned();
        if let Some(origin) = &origin
            && !self.origin_allowed(origin)
        {
            return RequestError::Forbidden.into_response();
        }
        let mut response = if req.method() == Method::OPTIONS {
            preflight(&req)
        } else {
            match self.route(req, remote).await {
                Ok(response) => response,
                Err(error) => error.into_response(),
            }
        };
        if let Some(origin) = origin {
            let headers = response.headers_mut();
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin);
            headers.insert(header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
            headers.append(header::VARY, HeaderValue::from_static("Origin"));
        }
        response
    }

    fn origin_allowed(&self, origin: &HeaderValue) -> bool {
        let allowed = &self.inner.config.allowed_origins;
        allowed.is_empty() || allowed.iter().any(|a| a.as_bytes() == origin.as_bytes())
    }

    async fn route(&self, mut req: Request<IncomingBody>, remote: Option<SocketAddr>) -> Result<HttpResponse, RequestError> {
        let query = req.uri().query().unwrap_or("").to_owned();
        let q = Query::parse(&query);
        let wants_websocket = match q.transport {
            Some("polling") if self.inner.config.polling => false,
            Some("websocket") if self.inner.config.websocket => true,
            _ => return Err(RequestError::UnknownTransport),
        };
        let is_upgrade = websocket::is_upgrade_request(&req);

        let Some(sid) = q.sid else {
            if req.method() != Method::GET {
                return Err(RequestError::BadHandshakeMethod);
            }
            if q.eio != Some("4") {
                return Err(RequestError::UnsupportedProtocolVersion);
            }
            let handshake = Handshake { query: query.clone(), headers: Headers::from_map(req.headers()), remote };
            return if wants_websocket {
                if !is_upgrade {
                    return Err(RequestError::BadRequest);
                }
                websocket::accept(self, &mut req, websocket::Purpose::Open(handshake))
            } else {
                let session = self.open(handshake, Transport::Polling);
                Ok(polling::open_response(self, &session))
            };
        };

        let session = sid.parse::<Sid>().ok().and_then(|sid| self.lookup(sid)).ok_or(RequestError::UnknownSid)?;
        if wants_websocket {
            if !is_upgrade {
                return Err(RequestError::BadRequest);
            }
            if !session.switch_transport(Transport::Polling, Transport::Upgrading) {
                return websocket::accept(self, &mut req, websocket::Purpose::Refuse);
            }
            let response = websocket::accept(self, &mut req, websocket::Purpose::Upgrade(session.clone()));
            if response.is_err() {
                session.switch_transport(Transport::Upgrading, Transport::Polling);
            }
            return response;
        }
        if session.transport() == Transport::WebSocket {
            return Err(RequestError::BadRequest);
        }
        match *req.method() {
            Method::GET => polling::poll(&session).await,
            Method::POST => polling::post(self, &session, req).await,
            _ => Err(RequestError::BadRequest),
        }
    }

    fn lookup(&self, sid: Sid) -> Option<Arc<Session<H::Data>>> {
        let session = self.inner.sessions.read().unwrap_or_else(|e| e.into_inner()).get(&sid).cloned()?;
        if session.pong_overdue(tokio::time::Instant::now()) {
            session.close(CloseReason::PingTimeout);
        }
        (!session.is_closed()).then_some(session)
    }

    /// Creates and registers a session, and starts its heartbeat.
    fn open(&self, handshake: Handshake, transport: Transport) -> Arc<Session<H::Data>> {
        let sid = Sid::random();
        let data = self.inner.handler.new_data();
        let session = Arc::new(Session::new(sid, data, handshake, transport, self.inner.config.outbound_queue));
        self.inner.sessions.write().unwrap_or_else(|e| e.into_inner()).insert(sid, session.clone());
        METRICS.sessions.inc();
        METRICS.sessions_opened.inc();
        self.inner.tasks.spawn(lifecycle(self.inner.clone(), session.clone()));
        session
    }

    /// The open packet for `session`.
    fn open_packet(&self, session: &Session<H::Data>, upgrades: &[&str]) -> String {
        let config = &self.inner.config;
        packet::open_packet(
            session.sid().as_str(),
            upgrades,
            config.ping_interval.as_millis() as u64,
            config.ping_timeout.as_millis() as u64,
            config.max_payload,
        )
    }

    /// Acts on packets that arrived together, in order: each run of messages goes to the
    /// handler at once. Stops early if the session closes.
    fn on_packets<'a>(&self, session: &Arc<Session<H::Data>>, packets: impl IntoIterator<Item = Incoming<'a>>) {
        let mut run = SmallVec::<[Message<'a>; 1]>::new();
        for packet in packets {
            if session.is_closed() {
                return;
            }
            match packet {
                Incoming::Message(text) => run.push(Message::Text(text)),
                Incoming::Binary(bytes) => run.push(Message::Binary(bytes)),
                control => {
                    self.deliver(session, &mut run);
                    self.on_control(session, control);
                }
            }
        }
        self.deliver(session, &mut run);
    }

    /// Hands a run of messages to the handler and empties it.
    fn deliver<'a>(&self, session: &Arc<Session<H::Data>>, run: &mut SmallVec<[Message<'a>; 1]>) {
        match run.len() {
            0 => {}
            1 => self.inner.handler.on_message(session, run.pop().expect("one message")),
            _ => self.inner.handler.on_messages(session, run.drain(..)),
        }
    }

    /// Acts on a packet from the client that is not a message, whichever transport
    /// carried it.
    fn on_control(&self, session: &Arc<Session<H::Data>>, packet: Incoming<'_>) {
        match packet {
            Incoming::Pong(_) => session.on_pong(),
            // Over polling, the poll the client may already have sent is answered first.
            Incoming::Close if session.transport() != Transport::WebSocket && !session.poll_pending() => {
                session.close_at_next_poll()
            }
            Incoming::Close => session.close(CloseReason::ClientClose),
            // v4 clients never ping; a stray ping or noop changes nothing. Messages are
            // handed on in runs by `on_packets`, never here.
            Incoming::Ping(_) | Incoming::Noop | Incoming::Message(_) | Incoming::Binary(_) => {}
            // An upgrade packet only means something on a probing WebSocket.
            Incoming::Upgrade => protocol_error(session, "unexpected upgrade packet"),
        }
    }
}

/// Closes `session` because the client broke the protocol.
fn protocol_error<D>(session: &Session<D>, why: &str) {
    if !session.is_closed() {
        tracing::debug!(sid = %session.sid(), why, "protocol error, closing session");
        METRICS.protocol_errors.inc();
    }
    session.close(CloseReason::TransportError);
}

/// The session's heartbeat, and its single place of cleanup: when the session is closed
/// for any reason it is unregistered and the handler told.
async fn lifecycle<H: Handler>(engine: Arc<Inner<H>>, session: Arc<Session<H::Data>>) {
    // Deadlines are absolute, counted from the last pong (or the open), so a late timer
    // never stretches the client's allowance.
    let heartbeat = async {
        let mut anchor = tokio::time::Instant::now();
        loop {
            let ping_at = anchor + engine.config.ping_interval;
            let pong_due = ping_at + engine.config.ping_timeout;
            tokio::time::sleep_until(ping_at).await;
            session.expect_pong_by(pong_due);
            if session.send(Outgoing::One(Frame::PING)).is_err() {
                return;
            }
            if tokio::time::timeout_at(pong_due, session.pong_received()).await.is_err() {
                session.close(CloseReason::PingTimeout);
                return;
            }
            anchor = tokio::time::Instant::now();
        }
    };
    tokio::select! {
        _ = session.closed_token().cancelled() => {}
        _ = heartbeat => {}
    }
    engine.sessions.write().unwrap_or_else(|e| e.into_inner()).remove(&session.sid());
    METRICS.sessions.dec();
    let reason = session.close_reason().unwrap_or(CloseReason::ServerClose);
    tracing::debug!(sid = %session.sid(), reason = reason.as_str(), "session closed");
    engine.handler.on_close(&session, reason);
}

/// Answers a CORS preflight.
fn preflight(req: &Request<IncomingBody>) -> HttpResponse {
    let mut response = Response::builder()
        .status(StatusCode::NO_CONTENT)
        .header(header::ACCESS_CONTROL_ALLOW_METHODS, "GET, POST, OPTIONS")
        .body(Full::new(Bytes::new()))
        .expect("static response parts are valid");
    if let Some(requested) = req.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS) {
        response.headers_mut().insert(header::ACCESS_CONTROL_ALLOW_HEADERS, requested.clone());
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_reads_engine_parameters_only() {
        let q = Query::parse("EIO=4&transport=polling&t=Nabc&sid=xyz");
        assert_eq!((q.eio, q.transport, q.sid), (Some("4"), Some("polling"), Some("xyz")));
        let q = Query::parse("");
        assert_eq!((q.eio, q.transport, q.sid), (None, None, None));
    }
}
