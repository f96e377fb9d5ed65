//! roomd's auth plugin: verifies a JWT from the CONNECT auth payload (`auth: { token }`),
//! attaches chosen claims to the socket, and enforces a room policy from the claims on
//! `join` and `publish`.
//!
//! Tokens are checked with the `jsonwebtoken` crate (HS256 with a shared secret, RS256 or
//! ES256 with a public key), including `exp`, `nbf`, `iss` and `aud` with a leeway. A
//! refused client gets `connect_error` whose `data` says why (`code`) and what to do
//! (`retry`: `"login"` for a token that will never work, `"later"` for one not valid yet).

mod policy;

use std::collections::HashMap;

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use roomd_plugin_sdk::{
    ConnectVerdict, Event, EventVerdict, Handshake, Hooks, Interests, Plugin, Socket, export_plugin, host,
};
use serde::Deserialize;
use serde_json::{Map, Value, json};

pub use policy::matches;

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `HS256` (default), `RS256` or `ES256`.
    #[serde(default = "default_algorithm")]
    algorithm: String,
    /// The shared secret, for HS256.
    secret: Option<String>,
    /// The PEM public key, for RS256 and ES256.
    public_key: Option<String>,
    /// Required `iss`, if set.
    issuer: Option<String>,
    /// Required `aud`, if set.
    audience: Option<String>,
    /// Clock skew tolerated on `exp` and `nbf`, in seconds.
    #[serde(default = "default_leeway")]
    leeway_s: u64,
    /// The claim naming the user (attached as `user.id`).
    #[serde(default = "default_user_claim")]
    user_claim: String,
    /// The claim holding a display name (attached as `user.name`).
    #[serde(default = "default_name_claim")]
    name_claim: String,
    /// Further claims copied to the socket under `claims`.
    #[serde(default)]
    attach: Vec<String>,
    /// The claim listing the room patterns a user may join and publish to.
    #[serde(default = "default_rooms_claim")]
    rooms_claim: String,
    /// Room patterns for users whose token has no such claim. `{user}` stands for the
    /// user's id; `*` for any run of characters.
    #[serde(default = "default_rooms")]
    default_rooms: Vec<String>,
}

fn default_algorithm() -> String {
    "HS256".into()
}
fn default_leeway() -> u64 {
    30
}
fn default_user_claim() -> String {
    "sub".into()
}
fn default_name_claim() -> String {
    "name".into()
}
fn default_rooms_claim() -> String {
    "rooms".into()
}
fn default_rooms() -> Vec<String> {
    vec!["*".into()]
}

/// Most sockets whose room policy is kept (a few hundred bytes each, within the
/// instance's memory limit); past it the cache starts over. Sockets are forgotten as they
/// leave, so this only bounds the busiest namespaces.
const MAX_POLICIES: usize = 10_000;

/// The auth plugin.
pub struct Auth {
    key: DecodingKey,
    validation: Validation,
    config: Config,
    /// The room patterns of each socket with limits checked so far, `{user}` filled in. A
    /// socket's data never changes, so it is read and parsed at its first room request,
    /// not at every one.
    policies: HashMap<String, Box<[String]>>,
}

/// Why a token was refused: the `code` a client sees, and whether logging in again helps.
fn refusal(kind: &ErrorKind) -> (&'static str, &'static str) {
    match kind {
        ErrorKind::ExpiredSignature => ("expired", "login"),
        ErrorKind::ImmatureSignature => ("not_yet_valid", "later"),
        ErrorKind::InvalidSignature | ErrorKind::InvalidAlgorithm => ("bad_signature", "login"),
        ErrorKind::InvalidAudience => ("wrong_audience", "login"),
        ErrorKind::InvalidIssuer => ("wrong_issuer", "login"),
        _ => ("malformed", "login"),
    }
}

fn reject(code: &str, retry: &str, message: &str) -> ConnectVerdict {
    ConnectVerdict::reject_with(message, &json!({ "code": code, "retry": retry }))
}

impl Auth {
    /// What the plugin attaches to a socket whose token carried `claims`.
    fn attachment(&self, claims: &Map<String, Value>) -> Value {
        let text = |name: &str| match claims.get(name) {
            Some(Value::String(s)) => Value::String(s.clone()),
            Some(Value::Number(n)) => Value::String(n.to_string()),
            _ => Value::Null,
        };
        let selected: Map<String, Value> =
            self.config.attach.iter().filter_map(|name| claims.get(name).map(|v| (name.clone(), v.clone()))).collect();
        let rooms = match claims.get(&self.config.rooms_claim) {
            Some(Value::Array(patterns)) => patterns.iter().filter_map(|p| p.as_str().map(str::to_owned)).collect(),
            _ => self.config.default_rooms.clone(),
        };
        json!({
            "user": { "id": text(&self.config.user_claim), "name": text(&self.config.name_claim) },
            "claims": selected,
            "room_patterns": rooms,
        })
    }

    /// The room patterns a socket is held to, `{user}` filled in; `None` when there is
    /// nothing to check, ever: a socket this plugin did not admit (no patterns attached)
    /// is not its to police, and one allowed every room may go anywhere. Such a socket is
    /// not asked about again.
    fn policy(socket: &Socket) -> Option<Box<[String]>> {
        let patterns = Self::limits(socket);
        if patterns.is_none() {
            let _ = host::skip_events(socket.id());
        }
        patterns
    }

    /// The patterns of [`policy`](Self::policy), read from the socket's data.
    fn limits(socket: &Socket) -> Option<Box<[String]>> {
        let data: Attached = serde_json::from_str(socket.data()).ok()?;
        let room_patterns = data.room_patterns?;
        if room_patterns.iter().any(|p| p == "*") {
            return None;
        }
        let user = data.user.id.unwrap_or_default();
        Some(room_patterns.iter().map(|p| p.replace("{user}", &user)).collect())
    }

    /// Checks the rooms a `join` or `publish` names against the socket's patterns.
    fn check_rooms(&mut self, socket: &Socket, event: &Event) -> Option<EventVerdict> {
        if event.name != "join" && event.name != "publish" {
            return None;
        }
        // This runs on every publish: only the room names are read, never the rest of the
        // message, and the socket's patterns come from the cache after its first request.
        if !self.policies.contains_key(socket.id()) {
            let patterns = Self::policy(socket)?;
            if self.policies.len() >= MAX_POLICIES {
                self.policies.clear();
            }
            self.policies.insert(socket.id().to_owned(), patterns);
        }
        let patterns = &self.policies[socket.id()];
        let rooms = match event.name.as_str() {
            "join" => policy::room_names(&event.payload.first::<Value>()?),
            _ => policy::room_names(&event.payload.first::<Envelope>()?.to),
        };
        let forbidden = rooms.into_iter().find(|room| !patterns.iter().any(|p| matches(p, room)))?;
        Some(EventVerdict::Reject(roomd_plugin_sdk::Rejection::with_data(
            format!("room {forbidden:?} is not allowed for this user"),
            &json!({ "code": "forbidden_room", "room": forbidden }),
        )))
    }
}

/// What [`Auth::attachment`] put on the socket, as far as the room policy reads it.
#[derive(Deserialize)]
struct Attached {
    #[serde(default)]
    user: AttachedUser,
    room_patterns: Option<Vec<String>>,
}

#[derive(Default, Deserialize)]
struct AttachedUser {
    id: Option<String>,
}

/// A `publish` envelope, as far as the room policy reads it.
#[derive(Deserialize)]
struct Envelope {
    #[serde(default)]
    to: Value,
}

impl Plugin for Auth {
    fn init(config: &Value) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config.clone()).map_err(|e| format!("auth config: {e}"))?;
        let (algorithm, key) = match config.algorithm.as_str() {
            "HS256" => {
                let secret = config.secret.as_deref().filter(|s| !s.is_empty()).ok_or("HS256 needs `secret`")?;
                (Algorithm::HS256, DecodingKey::from_secret(secret.as_bytes()).map_err(|e| format!("secret: {e}"))?)
            }
            "RS256" => {
                let pem = config.public_key.as_deref().ok_or("RS256 needs `public_key` (PEM)")?;
                (Algorithm::RS256, DecodingKey::from_rsa_pem(pem.as_bytes()).map_err(|e| format!("public_key: {e}"))?)
            }
            "ES256" => {
                let pem = config.public_key.as_deref().ok_or("ES256 needs `public_key` (PEM)")?;
                (Algorithm::ES256, DecodingKey::from_ec_pem(pem.as_bytes()).map_err(|e| format!("public_key: {e}"))?)
            }
            other => return Err(format!("algorithm {other:?} is not supported (HS256, RS256, ES256)")),
        };
        let mut validation = Validation::new(algorithm);
        validation.leeway = config.leeway_s;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        match &config.audience {
            Some(audience) => validation.set_audience(&[audience]),
            None => validation.validate_aud = false,
        }
        if let Some(issuer) = &config.issuer {
            validation.set_issuer(&[issuer]);
        }
        Ok(Auth { key, validation, config, policies: HashMap::new() })
    }

    fn on_connect(&mut self, handshake: &Handshake) -> ConnectVerdict {
        let auth = handshake.auth_json();
        let Some(token) = auth.get("token").and_then(Value::as_str) else {
            return reject("missing", "login", "authentication required: send auth.token");
        };
        match jsonwebtoken::decode::<Map<String, Value>>(token, &self.key, &self.validation) {
            Ok(data) => ConnectVerdict::allow_with(&self.attachment(&data.claims)),
            Err(error) => {
                let (code, retry) = refusal(error.kind());
                reject(code, retry, &format!("invalid token: {code}"))
            }
        }
    }

    fn interests(&self) -> Interests {
        // Connections to check, the two room requests the policy covers, and departures
        // to forget a socket's cached policy.
        Interests::everything().hooks(Hooks::CONNECT | Hooks::DISCONNECT).only_events(["join", "publish"])
    }

    fn on_event(&mut self, socket: &Socket, event: &Event) -> EventVerdict {
        self.check_rooms(socket, event).unwrap_or(EventVerdict::Allow)
    }

    fn on_disconnect(&mut self, socket: &Socket, _reason: &str) {
        self.policies.remove(socket.id());
    }
}

export_plugin!(Auth);

#[cfg(test)]
mod tests;
