//! Both directions, table-driven: what must be caught (obfuscation included) and what
//! must pass (innocent words containing a bad substring).

use roomd_plugin_sdk::{Event, EventVerdict, Plugin, Socket};
use serde_json::{Value, json};

use super::Profanity;

fn plugin(config: Value) -> Profanity {
    Profanity::init(&config).unwrap()
}

fn socket() -> Socket {
    Socket { id: "s1".into(), namespace: "/chat".into(), data: "{}".into() }
}

#[test]
fn catches_profanity_and_its_disguises() {
    let filter = plugin(json!({}));
    let caught = [
        "fuck",
        "what the fuck is this",
        "FUCK",
        "f u c k",
        "fuuuuuck",
        "fvck",
        "sh1t",
        "$h!t",
        "ｆｕｃｋ",
        "fuсk", // Cyrillic "с"
        "you asshole",
        "b.i.t.c.h",
    ];
    for text in caught {
        assert!(filter.censor(text).is_some(), "should catch {text:?}");
    }
}

#[test]
fn leaves_innocent_words_alone() {
    let filter = plugin(json!({}));
    let innocent = [
        "Scunthorpe",
        "assassin",
        "classic",
        "passage",
        "cockpit",
        "Dickens wrote novels",
        "hello there",
        "I need to assess the class",
    ];
    for text in innocent {
        assert_eq!(filter.censor(text), None, "should pass {text:?}");
    }
}

#[test]
fn config_words_extend_and_override_the_list() {
    // The built-in list flags "shiitake"; `allow` is the operator's fix.
    assert!(plugin(json!({})).censor("shiitake mushrooms").is_some());
    let filter = plugin(json!({ "deny": ["frak"], "allow": ["hell", "shiitake"] }));
    assert_eq!(filter.censor("shiitake mushrooms"), None);
    assert!(filter.censor("frak off").is_some());
    assert!(filter.censor("frakkin").is_some());
    assert_eq!(filter.censor("what the hell"), None);
    let strict = plugin(json!({ "threshold": "mild" }));
    let lenient = plugin(json!({ "threshold": "severe" }));
    assert!(strict.censor("crap").is_some());
    assert_eq!(lenient.censor("crap"), None);
}

#[test]
fn mask_rewrites_nested_strings_and_reject_refuses() {
    let mut mask = plugin(json!({}));
    let event = Event::new("chat", &[json!({ "text": "well fuck", "meta": { "tags": ["ok", "shit"] }, "n": 3 })]);
    let EventVerdict::Modify(masked) = mask.on_event(&socket(), &event) else { panic!("masked") };
    let args = masked.payload.values();
    assert_eq!(args[0]["n"], 3);
    assert!(!args[0]["text"].as_str().unwrap().contains("fuck"), "{args:?}");
    assert_eq!(args[0]["meta"]["tags"][0], "ok");
    assert!(args[0]["meta"]["tags"][1].as_str().unwrap().starts_with('s'), "{args:?}");

    let mut reject = plugin(json!({ "mode": "reject" }));
    let EventVerdict::Reject(rejection) = reject.on_event(&socket(), &event) else { panic!("rejected") };
    assert_eq!(rejection.data.as_deref(), Some(r#"{"code":"profanity"}"#));

    assert!(matches!(mask.on_event(&socket(), &Event::new("chat", &[json!("hi")])), EventVerdict::Allow));
    assert!(matches!(mask.on_event(&socket(), &Event::new("join", &[json!("fuck")])), EventVerdict::Allow), "room names are not chat");
    let only_chat = plugin(json!({ "events": ["chat"] }));
    let mut only_chat = only_chat;
    assert!(matches!(only_chat.on_event(&socket(), &Event::new("status", &[json!("fuck")])), EventVerdict::Allow));
}


#[test]
fn asks_for_the_events_it_checks_and_no_hooks() {
    use roomd_plugin_sdk::Hooks;
    let every = plugin(json!({})).interests();
    assert!(every.wants_event("chat") && every.wants_event("publish"));
    assert!(!every.wants_event("join") && !every.wants_event("leave"), "room requests carry no prose");
    assert!(!every.wants(Hooks::CONNECT) && !every.wants(Hooks::DISCONNECT));
    let some = plugin(json!({ "events": ["chat"] })).interests();
    assert!(some.wants_event("chat") && !some.wants_event("publish"));
}
