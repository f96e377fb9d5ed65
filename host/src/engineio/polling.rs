//! The HTTP long-polling transport: the handshake GET, the waiting GET that carries the
//! server's packets, and the POST that carries the client's.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, header};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming as IncomingBody;

use super::packet;
use super::outbox::ReadEnd;
use super::{CloseReason, Engine, Handler, HttpResponse, Outgoing, RequestError, Session, protocol_error};

/// The answer to a polling handshake: the open packet.
pub(super) fn open_response<H: Handler>(engine: &Engine<H>, session: &Arc<Session<H::Data>>) -> HttpResponse {
    let upgrades: &[&str] = if engine.config().websocket { &["websocket"] } else { &[] };
    let body = engine.open_packet(session, upgrades);
    engine.handler().on_open(session);
    text_response(body.into())
}

/// A GET on an open session: waits for packets, then answers with all that are queued.
pub(super) async fn poll<D>(session: &Arc<Session<D>>) -> Result<HttpResponse, RequestError> {
    let Some(rx) = session.outbox().take_read_end() else {
        // Another GET holds the queue: the spec closes the session on overlapping polls.
        protocol_error(session, "overlapping poll");
        return Err(RequestError::BadRequest);
    };
    let mut held = HeldQueue { session, rx: Some(rx) };
    let rx = held.rx.as_mut().expect("just stored");
    if session.take_closing() {
        session.close(CloseReason::ClientClose);
    }

    let first = tokio::select! {
        biased;
        out = session.outbox().recv(rx) => Some(out),
        _ = session.closed_token().cancelled() => None,
    };
    let mut body = String::new();
    match first {
        Some(first) => {
            let mut frames: Vec<Outgoing> = vec![first];
            while let Some(more) = session.outbox().try_recv(rx) {
                frames.push(more);
            }
            packet::encode_payload(frames.iter().flat_map(Outgoing::frames), &mut body);
        }
        // The session ended while the poll waited: a client that asked to close gets a
        // noop to end its request; anything else tells the client the session is over.
        None if session.close_reason() == Some(CloseReason::ClientClose) => body.push('6'),
        None => body.push('1'),
    }
    held.release();
    Ok(text_response(body.into()))
}

/// The queue receiver, borrowed from the session for the duration of one poll.
///
/// If the poll is dropped before it answers, the client aborted the request: the spec
/// closes the session, since packets may have been taken but never delivered.
struct HeldQueue<'a, D> {
    session: &'a Session<D>,
    rx: Option<ReadEnd>,
}

impl<D> HeldQueue<'_, D> {
    fn release(&mut self) {
        if let Some(rx) = self.rx.take() {
            self.session.outbox().give_back(rx);
        }
    }
}

impl<D> Drop for HeldQueue<'_, D> {
    fn drop(&mut self) {
        if let Some(rx) = self.rx.take() {
            self.session.close(CloseReason::TransportClose);
            self.session.outbox().give_back(rx);
        }
    }
}

/// A POST on an open session: decodes the payload and hands each packet on, in order.
pub(super) async fn post<H: Handler>(
    engine: &Engine<H>,
    session: &Arc<Session<H::Data>>,
    req: Request<IncomingBody>,
) -> Result<HttpResponse, RequestError> {
    if !session.begin_post() {
        protocol_error(session, "overlapping POST");
        return Err(RequestError::BadRequest);
    }
    let result = read_and_dispatch(engine, session, req).await;
    session.end_post();
    result.map(|()| {
        Response::builder()
            .header(header::CONTENT_TYPE, "text/html")
            .body(Full::new(Bytes::from_static(b"ok")))
            .expect("static response parts are valid")
    })
}

async fn read_and_dispatch<H: Handler>(
    engine: &Engine<H>,
    session: &Arc<Session<H::Data>>,
    req: Request<IncomingBody>,
) -> Result<(), RequestError> {
    let max = engine.config().max_payload;
    // Engine.IO v4 sends binary inside text payloads; a binary body is a v3 client.
    if req.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes() == b"application/octet-stream") {
        protocol_error(session, "binary POST body");
        return Err(RequestError::BadRequest);
    }
    let declared = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|len| len > max) {
        protocol_error(session, "POST larger than max_payload");
        return Err(RequestError::PayloadTooLarge);
    }
    let bytes = match Limited::new(req.into_body(), max).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.is::<http_body_util::LengthLimitError>() => {
            protocol_error(session, "POST larger than max_payload");
            return Err(RequestError::PayloadTooLarge);
        }
        Err(_) => {
            session.close(CloseReason::TransportClose);
            return Err(RequestError::BadRequest);
        }
    };
    let Ok(text) = std::str::from_utf8(&bytes) else {
        protocol_error(session, "POST body is not UTF-8");
        return Err(RequestError::BadRequest);
    };
    let packets = match packet::decode_payload(text) {
        Ok(packets) => packets,
        Err(error) => {
            protocol_error(session, &error.to_string());
            return Err(RequestError::BadRequest);
        }
    };
    engine.on_packets(session, packets);
    Ok(())
}

fn text_response(body: Bytes) -> HttpResponse {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=UTF-8")
        .body(Full::new(body))
        .expect("static response parts are valid")
}
