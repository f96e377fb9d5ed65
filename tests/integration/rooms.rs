//! Rooms as clients use them through the standalone relay: the default room, join and
//! leave with their refusals, union without duplicates, except, relay modes.

use std::time::Duration;

use crate::support::{TestServer, Ws};

const QUIET: Duration = Duration::from_millis(200);

async fn join(ws: &mut Ws, rooms: &str) -> String {
    ws.send(&format!(r#"421["join",{rooms}]"#)).await;
    ws.text().await
}

#[tokio::test]
async fn publish_reaches_the_union_of_rooms_once_minus_except_and_sender() {
    let server = TestServer::start("").await;
    let (mut sender, _) = Ws::socket(server.addr, "/").await;
    let (mut both, _) = Ws::socket(server.addr, "/").await;
    let (mut red, _) = Ws::socket(server.addr, "/").await;
    let (mut muted, _) = Ws::socket(server.addr, "/").await;
    let (mut outsider, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(join(&mut both, r#"["red","blue"]"#).await, r#"431[{"ok":true,"rooms":["blue","red"]}]"#);
    assert_eq!(join(&mut red, r#""red""#).await, r#"431[{"ok":true,"rooms":["red"]}]"#);
    assert_eq!(join(&mut muted, r#"["blue","muted"]"#).await, r#"431[{"ok":true,"rooms":["blue","muted"]}]"#);
    join(&mut sender, r#""red""#).await;

    sender.send(r#"429["publish",{"to":["red","blue"],"except":"muted","event":"news"},"hi",{"n":1}]"#).await;
    assert_eq!(sender.text().await, r#"439[{"ok":true}]"#);
    assert_eq!(both.text().await, r#"42["news","hi",{"n":1}]"#);
    assert_eq!(red.text().await, r#"42["news","hi",{"n":1}]"#);
    for ws in [&mut both, &mut muted, &mut outsider, &mut sender] {
        ws.expect_silence(QUIET).await;
    }
}

#[tokio::test]
async fn the_default_room_addresses_one_socket() {
    let server = TestServer::start("").await;
    let (mut a, _) = Ws::socket(server.addr, "/").await;
    let (mut b, b_id) = Ws::socket(server.addr, "/").await;
    let (mut c, _) = Ws::socket(server.addr, "/").await;
    a.send(&format!(r#"42["publish",{{"to":"{b_id}","event":"dm"}},"psst"]"#)).await;
    assert_eq!(b.text().await, r#"42["dm","psst"]"#);
    c.expect_silence(QUIET).await;
    // Nobody may join another socket's own room.
    let refused = join(&mut c, &format!(r#""{b_id}""#)).await;
    assert!(refused.contains(r#""ok":false"#) && refused.contains("another socket's own room"), "{refused}");
    // Nor leave their own.
    b.send(&format!(r#"422["leave","{b_id}"]"#)).await;
    assert_eq!(b.text().await, r#"432[{"ok":false,"error":"a socket cannot leave its own room"}]"#);
}

#[tokio::test]
async fn leave_and_disconnect_remove_membership() {
    let server = TestServer::start("").await;
    let (mut a, _) = Ws::socket(server.addr, "/").await;
    let (mut b, _) = Ws::socket(server.addr, "/").await;
    join(&mut b, r#""lobby""#).await;
    b.send(r#"422["leave","lobby"]"#).await;
    assert_eq!(b.text().await, r#"432[{"ok":true,"rooms":[]}]"#);
    a.send(r#"42["publish",{"to":"lobby","event":"x"}]"#).await;
    b.expect_silence(QUIET).await;

    let (mut c, _) = Ws::socket(server.addr, "/").await;
    join(&mut c, r#""lobby""#).await;
    c.send("41").await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    let ns = server.io.of("/").unwrap();
    assert!(ns.adapter().sockets_in("lobby").is_empty(), "all rooms left on disconnect");
}

#[tokio::test]
async fn join_policy_refuses_with_reasons() {
    let server = TestServer::start(
        "[[namespace]]\nname = \"/\"\njoin = [\"room-*\"]\npublish = [\"room-*\"]\nmax_rooms = 2\n",
    )
    .await;
    let (mut a, _) = Ws::socket(server.addr, "/").await;
    let table = [
        (r#""admin""#, r#"{"ok":false,"error":"joining room \"admin\" is not allowed"}"#),
        (r#""""#, r#"{"ok":false,"error":"room names must be 1 to 256 bytes"}"#),
        ("42", r#"{"ok":false,"error":"expected a room name or a list of room names"}"#),
        ("[]", r#"{"ok":false,"error":"expected a room name or a list of room names"}"#),
        (r#"["room-1","room-2"]"#, r#"{"ok":true,"rooms":["room-1","room-2"]}"#),
        (r#""room-3""#, r#"{"ok":false,"error":"too many rooms: at most 2 besides the socket's own"}"#),
        (r#""room-1""#, r#"{"ok":true,"rooms":["room-1","room-2"]}"#),
    ];
    for (rooms, reply) in table {
        assert_eq!(join(&mut a, rooms).await, format!("431[{reply}]"), "join {rooms}");
    }
    a.send(r#"425["publish",{"to":"elsewhere","event":"x"}]"#).await;
    assert_eq!(a.text().await, r#"435[{"ok":false,"error":"publishing to room \"elsewhere\" is not allowed"}]"#);
    a.send(r#"426["publish",{"to":"room-1","event":"disconnect"}]"#).await;
    assert_eq!(a.text().await, r#"436[{"ok":false,"error":"event name \"disconnect\" is reserved"}]"#);
}

#[tokio::test]
async fn relay_modes() {
    let server = TestServer::start(
        "[[namespace]]\nname = \"/rooms\"\nrelay = \"rooms\"\n[[namespace]]\nname = \"/none\"\nrelay = \"none\"\n",
    )
    .await;
    let (mut a, _) = Ws::socket(server.addr, "/rooms").await;
    let (mut b, _) = Ws::socket(server.addr, "/rooms").await;
    let (mut c, _) = Ws::socket(server.addr, "/rooms").await;
    a.send(r#"42/rooms,1["join","x"]"#).await;
    a.text().await;
    b.send(r#"42/rooms,1["join","x"]"#).await;
    b.text().await;
    a.send(r#"42/rooms,["msg",1]"#).await;
    assert_eq!(b.text().await, r#"42/rooms,["msg",1]"#);
    c.expect_silence(QUIET).await;
    a.expect_silence(QUIET).await;

    let (mut d, _) = Ws::socket(server.addr, "/none").await;
    let (mut e, _) = Ws::socket(server.addr, "/none").await;
    d.send(r#"42/none,3["msg"]"#).await;
    assert_eq!(d.text().await, r#"43/none,3[{"ok":false,"error":"this namespace does not relay events; use publish"}]"#);
    e.expect_silence(QUIET).await;
}
