//! Presence natively, against the SDK's in-memory stand-in for roomd.

use roomd_plugin_sdk::testing::{self, Emitted};
use roomd_plugin_sdk::{Event, EventVerdict, Plugin, Socket};
use serde_json::{Value, json};

use super::Presence;

fn socket(id: &str, user: Option<(&str, &str)>) -> Socket<'static> {
    let data = match user {
        Some((id, name)) => json!({ "user": { "id": id, "name": name } }),
        None => json!({}),
    };
    Socket::new(id, "/chat", data.to_string())
}

/// A fresh presence with `users` users connected (`u0` on `s0`, ...), what it sent
/// taken.
fn with_users(max_users: usize, users: usize) -> Presence {
    testing::reset();
    let mut presence = Presence::init(&json!({ "max_users": max_users })).unwrap();
    for i in 0..users {
        presence.on_connected(&socket(&format!("s{i}"), Some((&format!("u{i}"), "x"))));
    }
    testing::take_emitted();
    presence
}

fn sent(event: &str) -> Vec<Emitted> {
    testing::take_emitted().into_iter().filter(|e| e.event == event).collect()
}

#[test]
fn two_devices_are_one_user_and_diffs_mark_first_and_last() {
    testing::reset();
    let mut presence = Presence::init(&json!({})).unwrap();
    let (phone, laptop, other) = (socket("s1", Some(("ada", "Ada"))), socket("s2", Some(("ada", "Ada"))), socket("s3", None));

    presence.on_room_joined(&phone, "room-1");
    let diffs = sent("presence:diff");
    assert_eq!(diffs.len(), 1);
    assert_eq!(diffs[0].rooms, vec!["room-1"]);
    assert_eq!(diffs[0].except, vec!["s1"]);
    assert_eq!(diffs[0].args[0], json!({ "room": "room-1", "joins": [{ "id": "ada", "name": "Ada" }], "leaves": [] }));

    presence.on_room_joined(&laptop, "room-1");
    assert!(sent("presence:diff").is_empty(), "a second device is not a new arrival");
    presence.on_room_joined(&other, "room-1");
    let states = testing::take_emitted();
    let state = states.iter().find(|e| e.event == "presence:state").unwrap();
    assert_eq!(state.rooms, vec!["s3"], "the full state goes to the joiner");
    assert_eq!(state.args[0]["users"], json!([{ "id": "ada", "name": "Ada" }, { "id": "s3", "name": "s3" }]));

    presence.on_room_left(&phone, "room-1");
    assert!(sent("presence:diff").is_empty(), "the laptop is still there");
    testing::set_rooms("s2", &["s2", "room-1"]);
    presence.on_disconnect(&laptop, "transport close");
    let diffs = sent("presence:diff");
    assert_eq!(diffs[0].args[0], json!({ "room": "room-1", "joins": [], "leaves": [{ "id": "ada", "name": "Ada" }] }));

    let EventVerdict::Handled(answer) = presence.on_event(&other, &Event::new("presence:list", &[json!("room-1")])) else {
        panic!("answered")
    };
    assert_eq!(answer.values()[0], json!({ "room": "room-1", "users": [{ "id": "s3", "name": "s3" }] }));
}

#[test]
fn large_rooms_get_counts_and_the_namespace_is_tracked_too() {
    testing::reset();
    let mut presence = Presence::init(&json!({ "max_users": 2 })).unwrap();
    for i in 0..3 {
        presence.on_connected(&socket(&format!("s{i}"), None));
    }
    let diffs = sent("presence:diff");
    assert_eq!(diffs.len(), 3);
    assert_eq!(diffs[2].rooms, Vec::<String>::new(), "namespace-wide");
    assert_eq!(diffs[2].args[0], json!({ "room": Value::Null, "count": 3 }));
    for i in 0..3 {
        presence.on_room_joined(&socket(&format!("s{i}"), None), "big");
    }
    let states = sent("presence:state");
    assert_eq!(states[2].args[0], json!({ "room": "big", "count": 3 }));
    assert!(Presence::init(&json!({ "max": 1 })).is_err());
}

#[test]
fn asks_for_arrivals_departures_and_its_request_only() {
    let presence = Presence::init(&json!({})).unwrap();
    let interests = presence.interests();
    use roomd_plugin_sdk::Hooks;
    assert!(interests.wants(Hooks::CONNECTED | Hooks::ROOM_JOINED | Hooks::ROOM_LEFT | Hooks::DISCONNECT));
    assert!(!interests.wants(Hooks::CONNECT), "admits everyone without being asked");
    assert!(interests.wants_event("presence:list"));
    assert!(!interests.wants_event("publish") && !interests.wants_event("chat"));
}

#[test]
fn a_large_namespace_is_counted_not_listed() {
    let mut presence = with_users(2, 5);
    testing::take_kv_scans();
    presence.on_connected(&socket("s5", Some(("u5", "x"))));
    let scans = testing::take_kv_scans();
    assert!(scans.iter().all(|prefix| prefix.contains("u5")), "only the arriving user's own connections are looked up: {scans:?}");
    assert_eq!(sent("presence:diff")[0].args[0], json!({ "room": Value::Null, "count": 6 }));
    // A second device of a present user changes nothing; a user's last departure does.
    presence.on_connected(&socket("s5b", Some(("u5", "x"))));
    assert!(sent("presence:diff").is_empty());
    presence.on_disconnect(&socket("s0", Some(("u0", "x"))), "transport close");
    assert_eq!(sent("presence:diff")[0].args[0], json!({ "room": Value::Null, "count": 5 }));
}

#[test]
fn state_from_before_counts_were_kept_is_counted_once() {
    let mut presence = with_users(1, 3);
    // What an earlier version of the plugin left in the store: connections, no count.
    let count_key = super::count_key(None);
    assert!(roomd_plugin_sdk::host::kv::get(&count_key).is_some());
    roomd_plugin_sdk::host::kv::delete(&count_key);
    presence.on_connected(&socket("s3", Some(("u3", "x"))));
    assert_eq!(sent("presence:diff")[0].args[0], json!({ "room": Value::Null, "count": 4 }));
}

/// A room that empties leaves no count behind: rooms come and go, and the store is
/// bounded.
#[test]
fn an_emptied_room_leaves_nothing_in_the_store() {
    let mut presence = with_users(5, 0);
    let ada = socket("s1", Some(("ada", "Ada")));
    presence.on_room_joined(&ada, "dm-1");
    assert!(roomd_plugin_sdk::host::kv::get(&super::count_key(Some("dm-1"))).is_some());
    presence.on_room_left(&ada, "dm-1");
    assert!(roomd_plugin_sdk::host::kv::keys("").iter().all(|key| !key.contains("dm-1")), "{:?}", roomd_plugin_sdk::host::kv::keys(""));
    presence.on_room_joined(&ada, "dm-1");
    assert_eq!(sent("presence:state").last().unwrap().args[0]["users"], json!([{ "id": "ada", "name": "Ada" }]), "counted afresh");
}

/// A user on many connections (devices, tabs, or a load generator's shared token) costs
/// an arrival the same as a user on one: the store is never listed connection by
/// connection.
#[test]
fn a_user_on_many_connections_is_never_listed_connection_by_connection() {
    let mut presence = with_users(100, 0);
    let ada = |i: usize| socket(&format!("s{i}"), Some(("ada", "Ada")));
    for i in 0..50 {
        presence.on_connected(&ada(i));
    }
    presence.on_connected(&ada(7));
    assert_eq!(sent("presence:diff").len(), 1, "one user arrived");
    testing::take_kv_scans();
    presence.on_connected(&ada(50));
    let scans = testing::take_kv_scans();
    assert!(scans.iter().all(|prefix| prefix.starts_with("conns")), "users listed, not connections: {scans:?}");
    assert_eq!(sent("presence:state")[0].args[0], json!({ "room": Value::Null, "users": [{ "id": "ada", "name": "Ada" }] }));
    for i in 0..50 {
        presence.on_disconnect(&ada(i), "transport close");
    }
    assert!(sent("presence:diff").is_empty(), "ada is still on s50");
    presence.on_disconnect(&ada(50), "transport close");
    assert_eq!(sent("presence:diff")[0].args[0], json!({ "room": Value::Null, "joins": [], "leaves": [{ "id": "ada", "name": "Ada" }] }));
    assert!(roomd_plugin_sdk::host::kv::keys("conns").is_empty(), "no count is left behind");
}

#[test]
fn state_from_before_connections_were_counted_is_read_connection_by_connection() {
    let mut presence = with_users(100, 2);
    presence.on_connected(&socket("s0b", Some(("u0", "x"))));
    // What the version before left in the store: connections, no counts per user.
    for key in roomd_plugin_sdk::host::kv::keys("conns") {
        roomd_plugin_sdk::host::kv::delete(&key);
    }
    presence.on_connected(&socket("s1b", Some(("u1", "x"))));
    assert!(sent("presence:diff").is_empty(), "a second connection of u1, not an arrival");
    presence.on_connected(&socket("s2", Some(("u2", "x"))));
    let users = &sent("presence:state")[0].args[0]["users"];
    assert_eq!(users.as_array().map(Vec::len), Some(3), "u0 and u1 are listed too: {users}");
    presence.on_disconnect(&socket("s0", Some(("u0", "x"))), "transport close");
    assert!(sent("presence:diff").is_empty(), "u0 is still on s0b");
    presence.on_disconnect(&socket("s0b", Some(("u0", "x"))), "transport close");
    assert_eq!(sent("presence:diff")[0].args[0]["leaves"], json!([{ "id": "u0", "name": "x" }]));
}
