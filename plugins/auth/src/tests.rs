//! The auth plugin's decisions, natively: every way a token can fail, each algorithm, the
//! attached claims and the room policy.

use std::time::{SystemTime, UNIX_EPOCH};

use jsonwebtoken::{EncodingKey, Header, encode};
use roomd_plugin_sdk::{ConnectVerdict, Event, EventVerdict, Handshake, Plugin, Socket};
use serde_json::{Value, json};

use super::Auth;

const SECRET: &str = "test-secret";
const RSA_PRIVATE: &str = include_str!("../testdata/rsa-private.pem");
const RSA_PUBLIC: &str = include_str!("../testdata/rsa-public.pem");
const EC_PRIVATE: &str = include_str!("../testdata/ec-private.pem");
const EC_PUBLIC: &str = include_str!("../testdata/ec-public.pem");

fn now() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_secs() as i64
}

fn hs256(claims: &Value) -> String {
    encode(&Header::default(), claims, &EncodingKey::from_secret(SECRET.as_bytes()).unwrap()).unwrap()
}

fn handshake(auth: Value) -> Handshake {
    Handshake { namespace: "/chat".into(), auth: auth.to_string(), query: String::new(), headers: Vec::new(), address: None }
}

fn plugin(extra: Value) -> Auth {
    let mut config = json!({ "secret": SECRET, "issuer": "roomd", "audience": "chat", "leeway_s": 5 });
    config.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    Auth::init(&config).unwrap()
}

fn good_claims() -> Value {
    json!({ "sub": "u1", "name": "Ada", "iss": "roomd", "aud": "chat", "exp": now() + 60, "role": "admin" })
}

/// The `(code, retry)` of a refusal, or `None` when allowed.
fn outcome(auth: &mut Auth, token: Value) -> Option<(String, String)> {
    match auth.on_connect(&handshake(token)) {
        ConnectVerdict::Allow(_) => None,
        ConnectVerdict::Reject(rejection) => {
            let data: Value = serde_json::from_str(rejection.data.as_deref().unwrap()).unwrap();
            Some((data["code"].as_str().unwrap().into(), data["retry"].as_str().unwrap().into()))
        }
    }
}

#[test]
fn every_kind_of_bad_token_is_refused_with_its_reason() {
    let mut auth = plugin(json!({}));
    let with = |change: Value| {
        let mut claims = good_claims();
        claims.as_object_mut().unwrap().extend(change.as_object().unwrap().clone());
        claims
    };
    let wrong_key = encode(&Header::default(), &good_claims(), &EncodingKey::from_secret(b"other").unwrap()).unwrap();
    // (case, CONNECT auth, expected refusal as (code, retry)).
    type Case<'a> = (&'a str, Value, Option<(&'a str, &'a str)>);
    let table: Vec<Case> = vec![
        ("valid", json!({ "token": hs256(&good_claims()) }), None),
        ("no auth", json!({}), Some(("missing", "login"))),
        ("token not a string", json!({ "token": 42 }), Some(("missing", "login"))),
        ("garbage", json!({ "token": "not.a.jwt" }), Some(("malformed", "login"))),
        ("signed with another key", json!({ "token": wrong_key }), Some(("bad_signature", "login"))),
        ("expired", json!({ "token": hs256(&with(json!({ "exp": now() - 60 }))) }), Some(("expired", "login"))),
        ("expired within leeway", json!({ "token": hs256(&with(json!({ "exp": now() - 2 }))) }), None),
        ("not valid yet", json!({ "token": hs256(&with(json!({ "nbf": now() + 600 }))) }), Some(("not_yet_valid", "later"))),
        ("wrong audience", json!({ "token": hs256(&with(json!({ "aud": "admin" }))) }), Some(("wrong_audience", "login"))),
        ("wrong issuer", json!({ "token": hs256(&with(json!({ "iss": "evil" }))) }), Some(("wrong_issuer", "login"))),
        ("no exp", json!({ "token": hs256(&json!({ "sub": "u1", "iss": "roomd", "aud": "chat" })) }), Some(("malformed", "login"))),
    ];
    for (what, auth_payload, expected) in table {
        let expected = expected.map(|(c, r)| (c.to_owned(), r.to_owned()));
        assert_eq!(outcome(&mut auth, auth_payload), expected, "{what}");
    }
}

#[test]
fn rs256_and_es256_verify_with_a_public_key() {
    for (algorithm, private, public) in [
        (jsonwebtoken::Algorithm::RS256, EncodingKey::from_rsa_pem(RSA_PRIVATE.as_bytes()).unwrap(), RSA_PUBLIC),
        (jsonwebtoken::Algorithm::ES256, EncodingKey::from_ec_pem(EC_PRIVATE.as_bytes()).unwrap(), EC_PUBLIC),
    ] {
        let name = format!("{algorithm:?}");
        let mut auth = plugin(json!({ "algorithm": name, "public_key": public, "secret": null }));
        let token = encode(&Header::new(algorithm), &good_claims(), &private).unwrap();
        assert_eq!(outcome(&mut auth, json!({ "token": token })), None, "{name}");
        // An HS256 token cannot pass itself off as one signed with the key.
        assert_eq!(outcome(&mut auth, json!({ "token": hs256(&good_claims()) })), Some(("bad_signature".into(), "login".into())), "{name}");
    }
    assert!(Auth::init(&json!({ "algorithm": "RS256" })).is_err(), "a key is required");
    assert!(Auth::init(&json!({ "algorithm": "none", "secret": "x" })).is_err());
    assert!(Auth::init(&json!({ "secrett": "x" })).is_err(), "unknown keys are refused");
}

#[test]
fn claims_are_attached_and_rooms_enforced() {
    let mut auth = plugin(json!({ "attach": ["role"], "default_rooms": ["room-*", "dm-{user}-*"] }));
    let ConnectVerdict::Allow(Some(data)) = auth.on_connect(&handshake(json!({ "token": hs256(&good_claims()) }))) else {
        panic!("allowed with data")
    };
    let data: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(data["user"], json!({ "id": "u1", "name": "Ada" }));
    assert_eq!(data["claims"], json!({ "role": "admin" }));

    let socket = Socket::new("s1", "/chat", data.to_string());
    let mut verdict = |name: &str, args: &[Value]| auth.on_event(&socket, &Event::new(name, args));
    let allowed = |v: EventVerdict| matches!(v, EventVerdict::Allow);
    assert!(allowed(verdict("join", &[json!("room-1")])));
    assert!(allowed(verdict("join", &[json!(["room-1", "dm-u1-u2"])])));
    assert!(!allowed(verdict("join", &[json!("dm-u2-u3")])), "another user's DM");
    assert!(!allowed(verdict("join", &[json!(["room-1", "admin"])])));
    assert!(allowed(verdict("publish", &[json!({ "to": "room-9", "event": "chat" }), json!("hi")])));
    assert!(!allowed(verdict("publish", &[json!({ "to": ["room-9", "ops"], "event": "chat" })])));
    assert!(allowed(verdict("chat", &[json!("anything")])));

    // A token may carry its own room list.
    let mut claims = good_claims();
    claims["rooms"] = json!(["ops"]);
    let ConnectVerdict::Allow(Some(data)) = auth.on_connect(&handshake(json!({ "token": hs256(&claims) }))) else { panic!() };
    let socket = Socket::new("s2", "/chat", data);
    let EventVerdict::Reject(rejection) = auth.on_event(&socket, &Event::new("join", &[json!("room-1")])) else { panic!() };
    assert_eq!(rejection.message, "room \"room-1\" is not allowed for this user");
    assert!(matches!(auth.on_event(&socket, &Event::new("join", &[json!("ops")])), EventVerdict::Allow));
}

#[test]
fn asks_only_for_connects_and_room_requests() {
    let auth = plugin(json!({}));
    let interests = auth.interests();
    assert!(interests.wants(roomd_plugin_sdk::Hooks::CONNECT | roomd_plugin_sdk::Hooks::DISCONNECT));
    assert!(!interests.wants(roomd_plugin_sdk::Hooks::CONNECTED) && !interests.wants(roomd_plugin_sdk::Hooks::ROOM_JOINED));
    assert!(interests.wants_event("join") && interests.wants_event("publish"));
    assert!(!interests.wants_event("chat") && !interests.wants_event("leave"));
}

#[test]
fn sockets_it_did_not_admit_are_not_policed() {
    use roomd_plugin_sdk::testing::{self, Action};
    testing::reset();
    let mut auth = plugin(json!({ "default_rooms": ["room-*"] }));
    let stranger = Socket::new("s9", "/chat", "{}");
    let verdict = auth.on_event(&stranger, &Event::new("join", &[json!("admin")]));
    assert!(matches!(verdict, EventVerdict::Allow));
    assert_eq!(testing::take_actions(), vec![Action::SkipEvents("s9".into())], "and not asked about again");
    assert!(auth.policies.is_empty(), "nothing kept for it");
}

#[test]
fn a_socket_allowed_every_room_is_not_asked_about_again() {
    use roomd_plugin_sdk::testing::{self, Action};
    testing::reset();
    let mut auth = plugin(json!({}));
    let ConnectVerdict::Allow(Some(data)) = auth.on_connect(&handshake(json!({ "token": hs256(&good_claims()) }))) else { panic!() };
    let socket = Socket::new("s1", "/chat", data);
    let verdict = auth.on_event(&socket, &Event::new("publish", &[json!({ "to": "anywhere", "event": "m" })]));
    assert!(matches!(verdict, EventVerdict::Allow));
    assert_eq!(testing::take_actions(), vec![Action::SkipEvents("s1".into())], "the default `*` allows every room");

    let mut strict = plugin(json!({ "default_rooms": ["room-*"] }));
    let ConnectVerdict::Allow(Some(data)) = strict.on_connect(&handshake(json!({ "token": hs256(&good_claims()) }))) else { panic!() };
    let socket = Socket::new("s2", "/chat", data);
    let verdict = strict.on_event(&socket, &Event::new("publish", &[json!({ "to": "room-1", "event": "m" })]));
    assert!(matches!(verdict, EventVerdict::Allow));
    assert_eq!(testing::take_actions(), vec![], "a policy with limits checks every request");
}

/// A socket's data is read at its first room request and its patterns kept until it
/// leaves: later requests are checked against them without reading the data again.
#[test]
fn a_sockets_policy_is_read_once_and_forgotten_when_it_leaves() {
    let mut auth = plugin(json!({ "default_rooms": ["room-*"] }));
    let ConnectVerdict::Allow(Some(data)) = auth.on_connect(&handshake(json!({ "token": hs256(&good_claims()) }))) else { panic!() };
    let join = |room: &str| Event::new("join", &[json!(room)]);
    let first = Socket::new("s1", "/chat", data);
    assert!(matches!(auth.on_event(&first, &join("room-1")), EventVerdict::Allow));
    // The same id with other data (which roomd never does) shows where the answer comes from.
    let rereads = Socket::new("s1", "/chat", r#"{"room_patterns":["ops"]}"#);
    assert!(matches!(auth.on_event(&rereads, &join("room-2")), EventVerdict::Allow), "the kept patterns");
    assert!(matches!(auth.on_event(&rereads, &join("ops")), EventVerdict::Reject(_)));
    auth.on_disconnect(&first, "client namespace disconnect");
    assert!(matches!(auth.on_event(&rereads, &join("ops")), EventVerdict::Allow), "read afresh after leaving");
    assert!(matches!(auth.on_event(&rereads, &join("room-1")), EventVerdict::Reject(_)));
}

/// Whatever happens to departures, the cache has a bound: at it, it starts over.
#[test]
fn the_policy_cache_starts_over_at_its_bound() {
    let mut auth = plugin(json!({ "default_rooms": ["room-*"] }));
    let ConnectVerdict::Allow(Some(data)) = auth.on_connect(&handshake(json!({ "token": hs256(&good_claims()) }))) else { panic!() };
    let join = Event::new("join", &[json!("room-1")]);
    for n in 0..=crate::MAX_POLICIES {
        auth.on_event(&Socket::new(format!("s{n}"), "/chat", data.as_str()), &join);
    }
    assert_eq!(auth.policies.len(), 1, "full at the last one: emptied, then it alone kept");
}
