//! Why an HTTP request to the Engine.IO endpoint was refused, and the answer the client
//! gets. The codes, messages and statuses are the Node.js server's, so clients and tools
//! written against it read roomd's answers the same way.

use bytes::Bytes;
use http::{Response, StatusCode, header};
use http_body_util::Full;

/// A refused Engine.IO request. `Display` is the message the client reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum RequestError {
    /// `transport` is missing, unknown or disabled in config.
    #[error("Transport unknown")]
    UnknownTransport,
    /// `sid` names no live session.
    #[error("Session ID unknown")]
    UnknownSid,
    /// A handshake (no `sid`) that is not a GET.
    #[error("Bad handshake method")]
    BadHandshakeMethod,
    /// Anything else the protocol does not allow: wrong transport for the session, an
    /// overlapping poll, a malformed payload, an unsupported method.
    #[error("Bad request")]
    BadRequest,
    /// The request's `Origin` is not in `allowed_origins`.
    #[error("Forbidden")]
    Forbidden,
    /// `EIO` is missing or not `4`.
    #[error("Unsupported protocol version")]
    UnsupportedProtocolVersion,
    /// A POST body larger than `max_payload`.
    #[error("Payload too large")]
    PayloadTooLarge,
}

impl RequestError {
    /// The numeric code of the Node.js server's error table.
    pub fn code(self) -> u8 {
        match self {
            RequestError::UnknownTransport => 0,
            RequestError::UnknownSid => 1,
            RequestError::BadHandshakeMethod => 2,
            RequestError::BadRequest | RequestError::PayloadTooLarge => 3,
            RequestError::Forbidden => 4,
            RequestError::UnsupportedProtocolVersion => 5,
        }
    }

    /// The HTTP status that carries this error.
    pub fn status(self) -> StatusCode {
        match self {
            RequestError::Forbidden => StatusCode::FORBIDDEN,
            RequestError::PayloadTooLarge => StatusCode::PAYLOAD_TOO_LARGE,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    /// The full HTTP answer: `{"code":N,"message":"..."}` as JSON.
    pub fn into_response(self) -> Response<Full<Bytes>> {
        let body = format!(r#"{{"code":{},"message":"{}"}}"#, self.code(), self);
        Response::builder()
            .status(self.status())
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("static response parts are valid")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_match_the_node_server() {
        let table = [
            (RequestError::UnknownTransport, 400, r#"{"code":0,"message":"Transport unknown"}"#),
            (RequestError::UnknownSid, 400, r#"{"code":1,"message":"Session ID unknown"}"#),
            (RequestError::BadHandshakeMethod, 400, r#"{"code":2,"message":"Bad handshake method"}"#),
            (RequestError::BadRequest, 400, r#"{"code":3,"message":"Bad request"}"#),
            (RequestError::Forbidden, 403, r#"{"code":4,"message":"Forbidden"}"#),
            (
                RequestError::UnsupportedProtocolVersion,
                400,
                r#"{"code":5,"message":"Unsupported protocol version"}"#,
            ),
            (RequestError::PayloadTooLarge, 413, r#"{"code":3,"message":"Payload too large"}"#),
        ];
        for (error, status, body) in table {
            assert_eq!(error.status().as_u16(), status);
            assert_eq!(format!(r#"{{"code":{},"message":"{}"}}"#, error.code(), error), body);
        }
    }
}
