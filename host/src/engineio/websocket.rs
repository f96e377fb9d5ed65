//! The WebSocket transport: a session opened directly over WebSocket, or a long-polling
//! session upgraded to one (`2probe` → `3probe`, noop to the pending poll, `5`).
//!
//! One task per connection both reads and writes (the task that accepted the connection
//! ends once it is set up), so an idle connection costs that task, the session and
//! tungstenite's buffers, which are sized here on purpose. Frames the client wrote at once
//! are read and handed on together ([`Handler::on_messages`]), so the layers above can
//! act on a burst in one go.

use std::sync::Arc;

use futures_util::{FutureExt, SinkExt, StreamExt};
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming as IncomingBody;
use hyper_util::rt::TokioIo;
use smallvec::SmallVec;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message as WsMessage;

use super::packet::{self, Frame, Incoming};
use super::outbox::{Outbox, ReadEnd};
use super::{CloseReason, Engine, Handler, Handshake, HttpResponse, Outgoing, RequestError, Session, Transport, protocol_error};

/// Bytes tungstenite allocates up front per connection to read frames into. Chat-sized
/// messages fit; larger ones grow the buffer only while they are read. Keeps an idle
/// connection small (tungstenite's default is 128 KiB).
const READ_BUFFER: usize = 1024;

/// Bytes of outgoing frames gathered before a write to the socket, so a burst of queued
/// packets goes out in few syscalls. The buffer grows only as far as a burst needs.
const WRITE_BUFFER: usize = 16 * 1024;

/// Most queued packets written before the connection's task looks at its input again.
const MAX_BATCH: usize = 256;

/// Most frames already read that are handed on together (see [`read_ready`]).
pub const MAX_READ_BATCH: usize = 64;

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Whether `req` asks to switch to WebSocket.
pub(super) fn is_upgrade_request(req: &Request<IncomingBody>) -> bool {
    req.headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"))
}

/// What an accepted WebSocket is for.
pub(super) enum Purpose<D> {
    /// A new session, opened directly over WebSocket.
    Open(Handshake),
    /// Probing to take over this long-polling session.
    Upgrade(Arc<Session<D>>),
    /// Nothing: the session is already upgraded or upgrading. Like the Node.js server,
    /// complete the handshake and close at once, leaving the session untouched.
    Refuse,
}

/// Answers the WebSocket handshake and spawns the connection's task.
pub(super) fn accept<H: Handler>(
    engine: &Engine<H>,
    req: &mut Request<IncomingBody>,
    purpose: Purpose<H::Data>,
) -> Result<HttpResponse, RequestError> {
    let key = req.headers().get(header::SEC_WEBSOCKET_KEY).ok_or(RequestError::BadRequest)?;
    if req.headers().get(header::SEC_WEBSOCKET_VERSION).map(HeaderValue::as_bytes) != Some(b"13") {
        return Err(RequestError::BadRequest);
    }
    let accept = derive_accept_key(key.as_bytes());
    let on_upgrade = hyper::upgrade::on(req);

    let config = engine.config();
    let ws_config = WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(WRITE_BUFFER)
        .max_message_size(Some(config.max_payload))
        .max_frame_size(Some(config.max_payload));
    let tasks = engine.inner.tasks.clone();
    let engine = engine.clone();
    tasks.spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(upgraded) => upgraded,
            Err(error) => {
                tracing::debug!(%error, "WebSocket upgrade failed");
                if let Purpose::Upgrade(session) = purpose {
                    session.switch_transport(Transport::Upgrading, Transport::Polling);
                }
                return;
            }
        };
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config)).await;
        match purpose {
            Purpose::Open(handshake) => open(engine, handshake, ws).await,
            Purpose::Upgrade(session) => upgrade(engine, session, ws).await,
            Purpose::Refuse => {
                let mut ws = ws;
                let _ = ws.close(None).await;
            }
        }
    });

    Ok(Response::builder()
        .status(StatusCode::SWITCHING_PROTOCOLS)
        .header(header::CONNECTION, "Upgrade")
        .header(header::UPGRADE, "websocket")
        .header(header::SEC_WEBSOCKET_ACCEPT, accept)
        .body(Full::default())
        .expect("static response parts are valid"))
}

/// A session that starts on WebSocket: the open packet is its first message.
async fn open<H: Handler>(engine: Engine<H>, handshake: Handshake, mut ws: Ws) {
    let session = engine.open(handshake, Transport::WebSocket);
    let open = engine.open_packet(&session, &[]);
    if ws.send(WsMessage::text(open)).await.is_err() {
        session.close(CloseReason::TransportClose);
        return;
    }
    engine.handler().on_open(&session);
    let rx = session.outbox().take_read_end().expect("a new session's queue is free");
    spawn_serve(engine, session, ws, rx);
}

/// Probes and completes an upgrade from long-polling. On failure the WebSocket is closed
/// and the session carries on polling.
async fn upgrade<H: Handler>(engine: Engine<H>, session: Arc<Session<H::Data>>, mut ws: Ws) {
    let timeout = engine.config().upgrade_timeout;
    let probed = tokio::select! {
        result = tokio::time::timeout(timeout, probe(&session, &mut ws)) => result.unwrap_or(Err("upgrade timed out")),
        _ = session.closed_token().cancelled() => Err("session closed during upgrade"),
    };
    if let Err(why) = probed {
        tracing::debug!(sid = %session.sid(), why, "upgrade abandoned");
        session.switch_transport(Transport::Upgrading, Transport::Polling);
        let _ = ws.close(None).await;
        return;
    }
    session.set_transport(Transport::WebSocket);
    // The last poll hands the queue over once its noop has gone out.
    let rx = tokio::select! {
        rx = session.outbox().take_read_end_when_free() => rx,
        _ = session.closed_token().cancelled() => return,
    };
    spawn_serve(engine, session, ws, rx);
}

/// Carries the session on its own task from here on. The task that accepted and set up
/// the connection ends, so an idle connection keeps only [`serve`]'s state alive, not the
/// upgrade's and the handshake's as well.
fn spawn_serve<H: Handler>(engine: Engine<H>, session: Arc<Session<H::Data>>, ws: Ws, rx: ReadEnd) {
    let tasks = engine.inner.tasks.clone();
    tasks.spawn(async move {
        let rx = serve(&engine, &session, ws, rx).await;
        session.outbox().give_back(rx);
    });
}

/// Runs the probe exchange up to and including the client's `5`.
async fn probe<D>(session: &Session<D>, ws: &mut Ws) -> Result<(), &'static str> {
    loop {
        let text = match ws.next().await {
            Some(Ok(WsMessage::Text(text))) => text,
            Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_))) => continue,
            _ => return Err("connection ended or sent a non-text frame during upgrade"),
        };
        match packet::decode_text(&text) {
            Ok(Incoming::Ping("probe")) => {
                ws.send(WsMessage::text("3probe")).await.map_err(|_| "could not answer the probe")?;
                // End the pending (or next) poll so the client can pause polling.
                session.send(Outgoing::One(Frame::NOOP)).map_err(|_| "session queue unavailable")?;
            }
            Ok(Incoming::Upgrade) => return Ok(()),
            _ => return Err("unexpected packet during upgrade"),
        }
    }
}

/// Carries the session until it closes: writes queued frames, reads the client's.
/// Returns the queue's read end.
async fn serve<H: Handler>(
    engine: &Engine<H>,
    session: &Arc<Session<H::Data>>,
    mut ws: Ws,
    mut rx: ReadEnd,
) -> ReadEnd {
    let closed = session.closed_token().clone();
    // Why the server closes the WebSocket, when it is for a reason the client should see.
    let mut close_frame = None;
    loop {
        tokio::select! {
            biased;
            _ = closed.cancelled() => break,
            out = session.outbox().recv(&mut rx) => {
                let written = tokio::select! {
                    result = write_batch(&mut ws, out, session.outbox(), &mut rx) => result,
                    _ = closed.cancelled() => break,
                };
                if written.is_err() {
                    session.close(CloseReason::TransportClose);
                    break;
                }
            }
            message = ws.next() => {
                let ready = read_ready(&mut ws, message);
                // The packets read, up to whatever ended the read early.
                let mut packets = SmallVec::<[Incoming<'_>; 1]>::new();
                let mut ended = None;
                for message in &ready {
                    match message {
                        Some(Ok(WsMessage::Text(text))) => match packet::decode_text(text) {
                            Ok(packet) => packets.push(packet),
                            Err(error) => {
                                ended = Some(Ended::Invalid(error.to_string()));
                                break;
                            }
                        },
                        Some(Ok(WsMessage::Binary(bytes))) => packets.push(Incoming::Binary(bytes.clone())),
                        Some(Ok(WsMessage::Ping(_) | WsMessage::Pong(_) | WsMessage::Frame(_))) => {}
                        Some(Err(tokio_tungstenite::tungstenite::Error::Capacity(_))) => ended = Some(Ended::TooLarge),
                        Some(Ok(WsMessage::Close(_))) | Some(Err(_)) | None => ended = Some(Ended::Closed),
                    }
                }
                // What came before the end is acted on first.
                engine.on_packets(session, packets);
                match ended {
                    None => {}
                    Some(Ended::Invalid(why)) => protocol_error(session, &why),
                    Some(Ended::TooLarge) => {
                        close_frame = Some(CloseFrame { code: CloseCode::Size, reason: "message larger than maxPayload".into() });
                        protocol_error(session, "message larger than max_payload");
                    }
                    Some(Ended::Closed) => session.close(CloseReason::TransportClose),
                }
            }
        }
    }
    let _ = tokio::time::timeout(std::time::Duration::from_secs(1), ws.close(close_frame)).await;
    rx
}

type Read = Option<Result<WsMessage, tokio_tungstenite::tungstenite::Error>>;

/// What ended a read before its frames were all packets.
enum Ended {
    /// A text frame that is not an Engine.IO packet.
    Invalid(String),
    /// A frame over `max_payload`.
    TooLarge,
    /// The client closed the connection, or it broke.
    Closed,
}

/// `first`, and the frames after it that are already read and decoded (up to
/// [`MAX_READ_BATCH`]), so that what a client sent at once is handed on at once: a
/// handler then acts on several events of one socket in one go. Stops after anything
/// that is not a data frame, since the connection may be over.
fn read_ready(ws: &mut Ws, first: Read) -> SmallVec<[Read; 1]> {
    let mut ready = SmallVec::new();
    ready.push(first);
    while ready.len() < MAX_READ_BATCH && matches!(ready.last(), Some(Some(Ok(WsMessage::Text(_) | WsMessage::Binary(_))))) {
        // Polling without waiting: the loop polls `ws` again before it sleeps, so no
        // wake-up is lost.
        match ws.next().now_or_never() {
            Some(message) => ready.push(message),
            None => break,
        }
    }
    ready
}

/// Writes `first` and whatever else is queued (up to [`MAX_BATCH`]), then flushes once.
async fn write_batch(
    ws: &mut Ws,
    first: Outgoing,
    outbox: &Outbox,
    rx: &mut ReadEnd,
) -> Result<(), tokio_tungstenite::tungstenite::Error> {
    let mut next = Some(first);
    let mut count = 0;
    while let Some(out) = next.take() {
        // By value: a broadcast's lone frame is moved on, not cloned again.
        for frame in out.into_frames() {
            match frame {
                // A noop only ends long-polls; it means nothing on a WebSocket.
                Frame::Text(text) if text.as_str() == "6" => {}
                Frame::Text(text) => ws.feed(WsMessage::Text(text)).await?,
                Frame::Binary(bytes) => ws.feed(WsMessage::Binary(bytes)).await?,
            }
        }
        count += 1;
        if count < MAX_BATCH {
            next = outbox.try_recv(rx);
        }
    }
    ws.flush().await
}
