//! The HTTP front: the accept loop, routing, and graceful shutdown.
//!
//! Routes: the Socket.IO path (an [`Endpoint`]: the Socket.IO server, or a bare Engine.IO
//! server), `/healthz`, `/metrics`, then the [`Site`]'s (static files, demo tokens).
//! Everything else is 404. On shutdown the listener
//! closes first, then every session is closed at the transport level (so clients
//! reconnect elsewhere), then the HTTP connections drain.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode, header};
use http_body_util::Full;
use hyper::body::Incoming as IncomingBody;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::engineio::{Engine, Handler, HttpResponse};
use crate::metrics::METRICS;
use crate::site::Site;
use crate::socketio::SocketIo;

/// How long shutdown waits for sessions and connections to finish.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// How long a client may take to send request headers (bounds idle half-open
/// connections).
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// What serves the protocol path.
pub trait Endpoint: Send + Sync + 'static {
    /// Answers one request under the protocol path.
    fn handle(&self, req: Request<IncomingBody>, remote: SocketAddr) -> impl Future<Output = HttpResponse> + Send;

    /// Closes every session, waiting up to `grace`.
    fn close(&self, grace: Duration) -> impl Future<Output = ()> + Send;
}

impl Endpoint for SocketIo {
    fn handle(&self, req: Request<IncomingBody>, remote: SocketAddr) -> impl Future<Output = HttpResponse> + Send {
        SocketIo::handle(self, req, Some(remote))
    }

    fn close(&self, grace: Duration) -> impl Future<Output = ()> + Send {
        SocketIo::close(self, grace)
    }
}

impl<H: Handler> Endpoint for Engine<H> {
    fn handle(&self, req: Request<IncomingBody>, remote: SocketAddr) -> impl Future<Output = HttpResponse> + Send {
        Engine::handle(self, req, Some(remote))
    }

    fn close(&self, grace: Duration) -> impl Future<Output = ()> + Send {
        self.close_all(grace)
    }
}

/// Serves `endpoint` under `path` (e.g. `/socket.io/`) on `listener` until `shutdown`
/// completes, then shuts down gracefully.
pub async fn serve<E: Endpoint>(
    listener: TcpListener,
    path: &str,
    endpoint: E,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    serve_site(listener, path, endpoint, Site::default(), shutdown).await
}

/// Like [`serve`], with the extra routes of `site` (static files, demo tokens).
pub async fn serve_site<E: Endpoint>(
    listener: TcpListener,
    path: &str,
    endpoint: E,
    site: Site,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let prefix: Arc<str> = Arc::from(normalize_path(path));
    let endpoint = Arc::new(endpoint);
    let site = Arc::new(site);
    let connections = TaskTracker::new();
    let draining = CancellationToken::new();
    tokio::pin!(shutdown);

    loop {
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(%error, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let endpoint = endpoint.clone();
        let prefix = prefix.clone();
        let site = site.clone();
        let draining = draining.clone();
        connections.spawn(async move {
            let service = service_fn(move |req| {
                let endpoint = endpoint.clone();
                let prefix = prefix.clone();
                let site = site.clone();
                async move { Ok::<_, std::convert::Infallible>(route(&*endpoint, &prefix, &site, req, remote).await) }
            });
            let connection = http1::Builder::new()
                .timer(TokioTimer::new())
                .header_read_timeout(HEADER_READ_TIMEOUT)
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            tokio::pin!(connection);
            tokio::select! {
                _ = connection.as_mut() => {}
                _ = draining.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    let _ = connection.await;
                }
            }
        });
    }

    drop(listener);
    tracing::info!("shutting down: closing sessions");
    endpoint.close(SHUTDOWN_GRACE).await;
    draining.cancel();
    connections.close();
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, connections.wait()).await;
    Ok(())
}

/// `/socket.io` and `/socket.io/` both mean the prefix `/socket.io/`.
fn normalize_path(path: &str) -> String {
    format!("{}/", path.trim_end_matches('/'))
}

async fn route<E: Endpoint>(
    endpoint: &E,
    prefix: &str,
    site: &Site,
    req: Request<IncomingBody>,
    remote: SocketAddr,
) -> HttpResponse {
    let path = req.uri().path();
    if path.starts_with(prefix) || path == prefix.trim_end_matches('/') {
        return endpoint.handle(req, remote).await;
    }
    match path {
        "/healthz" => plain(StatusCode::OK, "text/plain", Bytes::from_static(b"ok\n")),
        "/metrics" => plain(StatusCode::OK, "text/plain; version=0.0.4", Bytes::from(METRICS.render())),
        _ if req.method() == http::Method::GET => match site.route(path, req.uri().query()).await {
            Some(response) => response,
            None => plain(StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"not found\n")),
        },
        _ => plain(StatusCode::NOT_FOUND, "text/plain", Bytes::from_static(b"not found\n")),
    }
}

fn plain(status: StatusCode, content_type: &'static str, body: Bytes) -> HttpResponse {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, content_type)
        .body(Full::new(body))
        .expect("static response parts are valid")
}

/// Resolves on SIGINT or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut terminate = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(signal) => signal,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = interrupt => {}
            _ = terminate.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = interrupt.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn path_is_a_prefix_with_one_trailing_slash() {
        assert_eq!(normalize_path("/socket.io"), "/socket.io/");
        assert_eq!(normalize_path("/socket.io/"), "/socket.io/");
        assert_eq!(normalize_path("/"), "/");
    }
}
