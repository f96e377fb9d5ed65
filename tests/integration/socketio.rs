//! Socket.IO behaviour: namespaces multiplexed on one session, dynamic namespaces, binary
//! events relayed intact, acknowledgements.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures_util::SinkExt;
use roomd::socketio::{Event, NamespaceHandler, Socket, SocketIo, SocketIoConfig, Staged};
use smallvec::SmallVec;
use tokio_tungstenite::tungstenite::Message;

use crate::support::{Read, TestServer, Ws};

const TWO_NAMESPACES: &str = "[[namespace]]\nname = \"/\"\n[[namespace]]\nname = \"/chat\"\n\
                              [[namespace]]\npattern = \"^/team-[a-z]+$\"\n";

#[tokio::test]
async fn namespaces_share_a_session_but_not_their_events() {
    let server = TestServer::start(TWO_NAMESPACES).await;
    let (mut a, _) = Ws::open(server.addr).await;
    a.connect_nsp("/").await;
    a.connect_nsp("/chat").await;
    let (mut b, _) = Ws::socket(server.addr, "/chat").await;
    b.send(r#"42/chat,["say","hi"]"#).await;
    assert_eq!(a.text().await, r#"42/chat,["say","hi"]"#);
    // Leaving /chat keeps the session and its main-namespace socket.
    a.send("41/chat,").await;
    b.send(r#"42/chat,["say","again"]"#).await;
    a.expect_silence(Duration::from_millis(200)).await;
    let (mut c, _) = Ws::socket(server.addr, "/").await;
    c.send(r#"42["main"]"#).await;
    assert_eq!(a.text().await, r#"42["main"]"#);
}

#[tokio::test]
async fn dynamic_namespaces_are_separate_per_name() {
    let server = TestServer::start(TWO_NAMESPACES).await;
    let (mut red1, _) = Ws::socket(server.addr, "/team-red").await;
    let (mut red2, _) = Ws::socket(server.addr, "/team-red").await;
    let (mut blue, _) = Ws::socket(server.addr, "/team-blue").await;
    red1.send(r#"42/team-red,["go"]"#).await;
    assert_eq!(red2.text().await, r#"42/team-red,["go"]"#);
    blue.expect_silence(Duration::from_millis(200)).await;
    let (mut other, _) = Ws::open(server.addr).await;
    other.send("40/team-RED,").await;
    assert_eq!(other.text().await, r#"44/team-RED,{"message":"Invalid namespace"}"#);
}

#[tokio::test]
async fn an_emptied_dynamic_namespace_is_dropped_however_its_last_socket_left() {
    let server = TestServer::start(TWO_NAMESPACES).await;
    let exists = |name: &str| server.io.of(name).is_some();

    // The client leaves.
    let (mut a, _) = Ws::socket(server.addr, "/team-a").await;
    assert!(exists("/team-a"));
    a.send("41/team-a,").await;
    eventually(|| !exists("/team-a")).await;

    // The server disconnects the last socket.
    let (mut b, _) = Ws::socket(server.addr, "/team-b").await;
    let (mut b2, _) = Ws::socket(server.addr, "/team-b").await;
    let ns = server.io.of("/team-b").unwrap();
    ns.sockets()[0].disconnect();
    assert!(exists("/team-b"), "one socket is left");
    ns.sockets()[0].disconnect();
    assert!(!exists("/team-b"), "dropped with the last socket");
    assert_eq!(b.text().await, "41/team-b,");
    assert_eq!(b2.text().await, "41/team-b,");

    // The connection closes.
    let (c, _) = Ws::socket(server.addr, "/team-c").await;
    drop(c);
    eventually(|| !exists("/team-c")).await;

    // A configured namespace stays, and a dropped name comes back on the next CONNECT.
    let (d, _) = Ws::socket(server.addr, "/chat").await;
    drop(d);
    let (mut again, _) = Ws::socket(server.addr, "/team-b").await;
    assert!(exists("/team-b") && exists("/chat"));
    again.send(r#"42/team-b,["still works"]"#).await;
    again.expect_silence(Duration::from_millis(100)).await;
}

/// Waits (up to 5 s) until `condition` holds.
async fn eventually(condition: impl Fn() -> bool) {
    for _ in 0..500 {
        if condition() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not met in 5 s");
}

#[tokio::test]
async fn binary_events_are_relayed_intact_and_acked() {
    let server = TestServer::start("").await;
    let (mut a, _) = Ws::socket(server.addr, "/").await;
    let (mut b, _) = Ws::socket(server.addr, "/").await;
    a.send(r#"452-7["file",{"name":"x","data":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#).await;
    a.send_binary(&[0, 255, 1]).await;
    a.send_binary(&[]).await;
    assert_eq!(b.text().await, r#"452-["file",{"name":"x","data":{"_placeholder":true,"num":0}},{"_placeholder":true,"num":1}]"#);
    assert_eq!(b.read().await, Read::Binary(vec![0, 255, 1]));
    assert_eq!(b.read().await, Read::Binary(vec![]));
    assert_eq!(a.text().await, r#"437[{"ok":true}]"#);
}

/// What [`Stager`] saw, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// A handler that puts every read's events off and never carries them out itself, so
/// only the connection settles them: the rule that nothing a client does next overtakes
/// what it sent, tested without a race against a stage.
struct Stager {
    log: Log,
}

struct Held {
    names: String,
    log: Log,
}

impl Staged for Held {
    fn settle(&self) {
        self.log.lock().unwrap().push(format!("settled {}", self.names));
    }
}

impl NamespaceHandler for Stager {
    fn stage_events(&self, _socket: &Socket, events: SmallVec<[Event; 1]>) -> Result<Arc<dyn Staged>, SmallVec<[Event; 1]>> {
        let names = events.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(",");
        self.log.lock().unwrap().push(format!("staged {names}"));
        Ok(Arc::new(Held { names, log: self.log.clone() }))
    }

    fn on_event(&self, _socket: &Socket, event: Event) {
        self.log.lock().unwrap().push(format!("event {}", event.name));
    }
}

/// Waits until `log` holds `entries` lines.
async fn logged(log: &Log, entries: usize) -> Vec<String> {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    loop {
        let seen = log.lock().unwrap().clone();
        if seen.len() >= entries || tokio::time::Instant::now() > deadline {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test]
async fn events_put_off_are_settled_before_anything_the_client_does_next() {
    let log = Log::default();
    let io = SocketIo::builder().config(SocketIoConfig::default()).namespace("/", Stager { log: log.clone() }).build();
    let server = TestServer::serve(io, "/socket.io/").await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    ws.send_at_once(&[r#"42["a"]"#, r#"42["b"]"#]).await;
    assert_eq!(logged(&log, 1).await, ["staged a,b"], "a read's events are put off together");
    // A later read: what was put off is settled first, waiting for it if it is under way.
    ws.send(r#"42["c"]"#).await;
    assert_eq!(logged(&log, 3).await[1..], ["settled a,b", "staged c"]);
    // Events followed by another packet in the same read go on at once, in order.
    ws.send_at_once(&[r#"42["d"]"#, r#"42/nowhere,["e"]"#]).await;
    assert_eq!(logged(&log, 5).await[3..], ["settled c", "event d"]);
    // A close: what came before it is settled.
    let (mut other, _) = Ws::socket(server.addr, "/").await;
    other.stream.feed(Message::text(r#"42["f"]"#)).await.unwrap();
    other.stream.feed(Message::Close(None)).await.unwrap();
    other.stream.flush().await.unwrap();
    assert_eq!(logged(&log, 7).await[5..], ["staged f", "settled f"]);
}
