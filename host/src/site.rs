//! What the HTTP front serves besides the protocol: static files (the chat page) and,
//! for demos only, an endpoint that signs JWTs for any name.
//!
//! Both are off unless configured. The token endpoint exists so the demo page can log in
//! without an identity provider; it hands a valid token to anyone who asks and must never
//! be enabled where tokens protect anything.

use std::path::{Component, Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use bytes::Bytes;
use hmac::{Hmac, Mac};
use http::{Response, StatusCode, header};
use http_body_util::Full;
use serde_json::json;
use sha2::Sha256;

use crate::engineio::HttpResponse;

/// Settings of the demo token endpoint (`GET /demo/token?name=NAME`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DemoTokens {
    /// The HS256 secret (the auth plugin must be configured with the same).
    pub secret: String,
    /// The `iss` claim.
    pub issuer: String,
    /// The `aud` claim.
    pub audience: String,
    /// How long a token is valid.
    pub ttl: Duration,
}

/// Longest display name the demo endpoint signs.
const MAX_NAME: usize = 40;

/// The extra routes.
#[derive(Debug, Clone, Default)]
pub struct Site {
    /// Folder served at `/` (`index.html` for `/`), if any.
    pub static_dir: Option<PathBuf>,
    /// The demo token endpoint, if enabled.
    pub demo_tokens: Option<DemoTokens>,
}

impl Site {
    /// Answers `path` if it is one of the site's routes.
    pub async fn route(&self, path: &str, query: Option<&str>) -> Option<HttpResponse> {
        if path == "/demo/token" {
            return self.demo_tokens.as_ref().map(|demo| demo.issue(query.unwrap_or("")));
        }
        let dir = self.static_dir.as_ref()?;
        let file = safe_join(dir, path)?;
        let file = if path.ends_with('/') { file.join("index.html") } else { file };
        let bytes = tokio::fs::read(&file).await.ok()?;
        Some(
            Response::builder()
                .header(header::CONTENT_TYPE, content_type(&file))
                .header(header::CACHE_CONTROL, "no-cache")
                .body(Full::new(Bytes::from(bytes)))
                .expect("static response parts are valid"),
        )
    }
}

/// `dir` joined with a URL path, or `None` if the path tries to leave `dir`.
fn safe_join(dir: &Path, url_path: &str) -> Option<PathBuf> {
    let relative = Path::new(url_path.trim_start_matches('/'));
    let clean = relative.components().all(|c| matches!(c, Component::Normal(_)));
    clean.then(|| dir.join(relative))
}

fn content_type(file: &Path) -> &'static str {
    match file.extension().and_then(|e| e.to_str()) {
        Some("html") => "text/html; charset=utf-8",
        Some("js") | Some("mjs") => "text/javascript; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("json") | Some("map") => "application/json",
        Some("svg") => "image/svg+xml",
        Some("png") => "image/png",
        _ => "application/octet-stream",
    }
}

impl DemoTokens {
    fn issue(&self, query: &str) -> HttpResponse {
        let name = query
            .split('&')
            .find_map(|pair| pair.strip_prefix("name="))
            .map(percent_decode)
            .map(|name| name.trim().to_owned())
            .filter(|name| !name.is_empty() && name.chars().count() <= MAX_NAME);
        let Some(name) = name else {
            let body = format!(r#"{{"error":"give ?name= (1 to {MAX_NAME} characters)"}}"#);
            return json_response(StatusCode::BAD_REQUEST, body);
        };
        let token = self.sign(&name, SystemTime::now());
        json_response(StatusCode::OK, json!({ "token": token, "user": name }).to_string())
    }

    /// An HS256 JWT for `name` (`sub` and `name` claims), issued at `now`.
    pub fn sign(&self, name: &str, now: SystemTime) -> String {
        let iat = now.duration_since(UNIX_EPOCH).unwrap_or_default().as_secs();
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let claims = json!({
            "sub": name, "name": name, "iss": self.issuer, "aud": self.audience,
            "iat": iat, "exp": iat + self.ttl.as_secs(),
        });
        let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
        let signing_input = format!("{header}.{payload}");
        let mut mac = Hmac::<Sha256>::new_from_slice(self.secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(signing_input.as_bytes());
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes()))
    }
}

fn json_response(status: StatusCode, body: String) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::CACHE_CONTROL, "no-store")
        .body(Full::new(Bytes::from(body)))
        .expect("static response parts are valid")
}

/// Decodes `%XX` escapes and `+` in a query value; invalid escapes stay as they are.
fn percent_decode(value: &str) -> String {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match value.get(i + 1..i + 3).and_then(|hex| u8::from_str_radix(hex, 16).ok()).ok_or(()) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_cannot_leave_the_folder() {
        let dir = Path::new("/srv/web");
        assert_eq!(safe_join(dir, "/chat.js"), Some(PathBuf::from("/srv/web/chat.js")));
        assert_eq!(safe_join(dir, "/"), Some(PathBuf::from("/srv/web/")));
        assert_eq!(safe_join(dir, "/../etc/passwd"), None);
        assert_eq!(safe_join(dir, "/a/../../b"), None);
        assert_eq!(safe_join(dir, "/./x"), None);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(percent_decode("Ada+Lovelace"), "Ada Lovelace");
        assert_eq!(percent_decode("%C3%A9t%C3%A9"), "été");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
    }

    #[tokio::test]
    async fn the_demo_endpoint_signs_only_sensible_names() {
        let demo = DemoTokens { secret: "s".into(), issuer: "i".into(), audience: "a".into(), ttl: Duration::from_secs(60) };
        let site = Site { static_dir: None, demo_tokens: Some(demo) };
        let too_long = format!("name={}", "a".repeat(MAX_NAME + 1));
        for (query, status) in [("name=ada", 200), ("name=", 400), ("name=%20%20", 400), ("other=1", 400), (too_long.as_str(), 400)] {
            let answer = site.route("/demo/token", Some(query)).await.expect("the route exists");
            assert_eq!(answer.status().as_u16(), status, "{query}");
        }
        assert!(Site::default().route("/demo/token", Some("name=ada")).await.is_none(), "off unless configured");
    }

    #[test]
    fn demo_tokens_are_standard_hs256() {
        let demo = DemoTokens { secret: "s".into(), issuer: "i".into(), audience: "a".into(), ttl: Duration::from_secs(60) };
        let token = demo.sign("ada", UNIX_EPOCH + Duration::from_secs(1000));
        let parts: Vec<&str> = token.split('.').collect();
        assert_eq!(parts.len(), 3);
        let claims: serde_json::Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims, json!({ "sub": "ada", "name": "ada", "iss": "i", "aud": "a", "iat": 1000, "exp": 1060 }));
        // The signature: HMAC-SHA256 over "header.payload", checked independently.
        let mut mac = Hmac::<Sha256>::new_from_slice(b"s").unwrap();
        mac.update(format!("{}.{}", parts[0], parts[1]).as_bytes());
        assert!(mac.verify_slice(&URL_SAFE_NO_PAD.decode(parts[2]).unwrap()).is_ok());
    }
}
