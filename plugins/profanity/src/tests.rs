//! Both directions, table-driven: what must be caught (obfuscation included) and what
//! must pass (innocent words containing a bad substring).

use roomd_plugin_sdk::{Event, EventVerdict, Payload, Plugin, Socket};
use serde_json::{Value, json};

use super::Profanity;

fn plugin(config: Value) -> Profanity {
    Profanity::init(&config).unwrap()
}

fn socket() -> Socket<'static> {
    Socket::new("s1", "/chat", "{}")
}

#[test]
fn catches_profanity_and_its_disguises() {
    let mut filter = plugin(json!({}));
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
        "f\u{200B}uck", // a zero-width space inside
        "fück",
        "@ss",
        "a s s",
        "motherfucker",
        "bullshit!!!",
        "F.U.C.K.",
        "you're a 5h1tty b1tch",
        "dumbasses",
        "f!u!c!k",
        "s|h|i|t",
        "fũck",
        "ƒuck",
        "sh1it",
        "fuvck",
    ];
    for text in caught {
        assert!(filter.censor(text).is_some(), "should catch {text:?}");
    }
    // A run longer than its counter holds (65,535) still reads as one run.
    let long = format!("f{}ck", "u".repeat(70_000));
    assert!(filter.censor(&long).is_some() && filter.offends(&long), "a saturated run");
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
        "the spice has cumin",
        "a door knob and a shell",
        "hello, Hancock",
        "grapes and therapists",
        "4 5 5 4 555",
        "the Arsenal won 3-1",
        "",
        "漢字 and emoji 😀",
    ];
    for text in innocent {
        assert_eq!(filter.censor(text), None, "should pass {text:?}");
    }
}

#[test]
fn config_words_extend_and_override_the_list() {
    // The built-in list flags "shiitake"; `allow` is the operator's fix.
    assert!(plugin(json!({})).censor("shiitake mushrooms").is_some());
    let filter = plugin(json!({ "deny": ["frak*"], "allow": ["hell", "shiitake"] }));
    assert_eq!(filter.censor("shiitake mushrooms"), None);
    assert!(filter.censor("frak off").is_some());
    assert!(filter.censor("frakkin").is_some());
    assert_eq!(filter.censor("what the hell"), None);
    let strict = plugin(json!({ "threshold": "mild" }));
    let lenient = plugin(json!({ "threshold": "severe" }));
    assert!(strict.censor("crap").is_some());
    assert_eq!(lenient.censor("crap"), None);
    assert!(lenient.censor("fuck").is_some());
}

#[test]
fn deny_patterns_choose_how_much_of_a_word_they_match() {
    let filter = plugin(json!({ "deny": ["grok", "zork*", "*blarg*"] }));
    assert!(filter.censor("grok").is_some() && filter.censor("groks").is_some());
    assert_eq!(filter.censor("grokking"), None, "a whole-word pattern");
    assert!(filter.censor("zorkmids").is_some());
    assert_eq!(filter.censor("azork"), None, "a pattern open at its end only");
    assert!(filter.censor("megablargs").is_some());
    assert!(plugin(json!({ "deny": [" zork* "], "allow": [" Zorkmid "] })).censor("zorkmid zorks").is_some(), "entries trimmed");
    assert_eq!(plugin(json!({ "deny": [" zork* "], "allow": [" Zorkmid "] })).censor("zorkmid"), None);
    for bad in ["gr0k!", "x", "*", "блять"] {
        let Err(error) = Profanity::init(&json!({ "deny": [bad] })) else { panic!("{bad:?} accepted") };
        assert!(error.contains("deny"), "{error}");
    }
}

#[test]
fn masks_keep_the_first_letter_and_the_rest_of_the_text() {
    let filter = plugin(json!({}));
    assert_eq!(filter.censor("well fuck it").as_deref(), Some("well f*** it"));
    assert_eq!(filter.censor("oh $h!t, sh1t").as_deref(), Some("oh $***, s***"));
    assert_eq!(filter.censor("f u c k").as_deref(), Some("f * * *"));
    assert_eq!(filter.censor("fuсk off").as_deref(), Some("f*** off"), "a Cyrillic letter is one star");
    assert_eq!(filter.censor("motherfucker").as_deref(), Some("motherf***er"), "the listed part");
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
    // A lone surrogate escape hides nothing, and what cannot be rewritten is refused.
    let sneaky = Event { name: "chat".into(), payload: Payload { args: r#"["\ud800 fuck"]"#.into(), attachments: vec![] }, wants_ack: false };
    assert!(matches!(mask.on_event(&socket(), &sneaky), EventVerdict::Reject(_)));
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
