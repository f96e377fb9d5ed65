//! roomd's profanity plugin: checks every string in an event's arguments (nested JSON
//! included) against a word list, seeing through leetspeak, spacing, repeated letters and
//! look-alike Unicode while leaving innocent words alone ("Scunthorpe", "assassin").
//!
//! Mode `mask` rewrites the event with the offending words starred out; mode `reject`
//! refuses it (the sender's ack gets `{ok:false, error, data:{code:"profanity"}}` and the
//! event goes nowhere). Extra denied and allowed words come from config and change with a
//! hot reload of `config.toml`.
//!
//! How a message is read is [`glyph`] (one character) and [`words`] (the words it makes);
//! what counts as profane is [`lexicon`]. Most messages are decided by [`quick`], a
//! pass over their bytes that reads only a few words in full; [`strings`] finds the text
//! in the arguments without building values, and the fast path reads each string where
//! it lies in the JSON.

use std::ops::Range;

use lexicon::{Lexicon, Severity};
use roomd_plugin_sdk::{Event, EventVerdict, Hooks, Interests, Payload, Plugin, Rejection, Socket, export_plugin};
use serde::Deserialize;
use serde_json::{Value, json};
use strings::Scan;
use words::Words;

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `mask` (default) or `reject`.
    #[serde(default)]
    mode: Mode,
    /// Only these events are checked; empty (default) checks every event but room
    /// requests (`join`, `leave`).
    #[serde(default)]
    events: Vec<String>,
    /// Least severity acted on: `mild`, `moderate` (default) or `severe`.
    #[serde(default = "default_threshold")]
    threshold: Severity,
    /// Further patterns to treat as severe profanity (`word`, `word*`, `*word*`).
    #[serde(default)]
    deny: Vec<String>,
    /// Words never to flag.
    #[serde(default)]
    allow: Vec<String>,
}

fn default_threshold() -> Severity {
    Severity::Moderate
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Mask,
    Reject,
}

/// The profanity plugin.
pub struct Profanity {
    mode: Mode,
    /// The events checked: every one but room requests, or those `events` names.
    interests: Interests,
    lexicon: Lexicon,
    /// The scanner for the common case, a clean message (see [`Profanity::offends`]).
    words: Words,
}

impl Profanity {
    /// Whether `text` holds anything listed at or above the threshold. The fast path
    /// decides most messages, reading only a few of their words in full.
    fn offends(&mut self, text: &str) -> bool {
        let (lexicon, words) = (&self.lexicon, &mut self.words);
        let mut read = |text: &str| read_word(lexicon, words, text);
        match lexicon.quick().offends(text, &mut read) {
            Some(verdict) => verdict,
            None => read(text),
        }
    }

    /// `text` with offending words starred out, or `None` when it is clean.
    fn censor(&self, text: &str) -> Option<String> {
        let mut spans = Vec::new();
        Words::default().any(text, &mut |runs| {
            self.lexicon.find(text, runs, &mut |span| {
                spans.push(span);
                false
            })
        });
        (!spans.is_empty()).then(|| mask(text, &spans))
    }

    /// Censors every string in `value`; returns whether anything was found.
    fn scrub(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => match self.censor(text) {
                Some(censored) => {
                    *text = censored;
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |found, item| self.scrub(item) | found),
            Value::Object(map) => map.values_mut().fold(false, |found, item| self.scrub(item) | found),
            _ => false,
        }
    }
}

/// The full reading of `text`: whether a word of it holds anything listed.
fn read_word(lexicon: &Lexicon, words: &mut Words, text: &str) -> bool {
    words.any(text, &mut |runs| lexicon.find(text, runs, &mut |_| true))
}

/// The arguments' strings are looked at in place by the fast path, and decoded and read
/// in full only when it cannot vouch for them.
impl strings::Reader for Profanity {
    fn look(&mut self, json: &str, from: usize) -> Scan {
        let (lexicon, words) = (&self.lexicon, &mut self.words);
        lexicon.quick().offends_in_json(json, from, &mut |word| read_word(lexicon, words, word))
    }

    fn check(&mut self, text: &str) -> bool {
        self.offends(text)
    }
}

/// `text` with every span starred out but its first character (`f***`); white space in
/// a span (`f u c k`) is kept.
fn mask(text: &str, spans: &[Range<usize>]) -> String {
    let mut masked = vec![false; text.len()];
    for span in spans {
        let first = text[span.clone()].chars().next().map_or(0, char::len_utf8);
        masked[span.start + first..span.end].fill(true);
    }
    text.char_indices().map(|(at, c)| if masked[at] && !c.is_whitespace() { '*' } else { c }).collect()
}

impl Plugin for Profanity {
    fn init(config: &Value) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config.clone()).map_err(|e| format!("profanity config: {e}"))?;
        let lexicon = Lexicon::new(config.threshold, &config.deny, &config.allow).map_err(|e| format!("profanity config: {e}"))?;
        let interests = Interests::everything().hooks(Hooks::empty());
        let interests = if config.events.is_empty() {
            interests.events_except(["join", "leave"])
        } else {
            interests.only_events(config.events)
        };
        Ok(Profanity { mode: config.mode, interests, lexicon, words: Words::default() })
    }

    fn interests(&self) -> Interests {
        self.interests.clone()
    }

    fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
        // The host calls only for these; a direct caller (a test) gets the same answer.
        if !self.interests.wants_event(&event.name) {
            return EventVerdict::Allow;
        }
        // A publish envelope names rooms and an event, not words anyone reads.
        let skip = usize::from(event.name == "publish");
        // Most messages are clean: read their strings where they lie, and build values
        // only for one that needs rewriting.
        if !strings::any(&event.payload.args, skip, self) {
            return EventVerdict::Allow;
        }
        let refuse = || {
            EventVerdict::Reject(Rejection::with_data(
                "message contains language that is not allowed here",
                &json!({ "code": "profanity" }),
            ))
        };
        if self.mode == Mode::Reject {
            return refuse();
        }
        // Arguments that cannot be built as values (a lone surrogate escape) cannot be
        // rewritten either: refused rather than let through.
        let Ok(mut values) = serde_json::from_str::<Vec<Value>>(&event.payload.args) else { return refuse() };
        if !values.iter_mut().skip(skip).fold(false, |found, value| self.scrub(value) | found) {
            return EventVerdict::Allow;
        }
        EventVerdict::Modify(Event {
            name: event.name.clone(),
            payload: Payload { args: Value::Array(values).to_string(), attachments: event.payload.attachments.clone() },
            wants_ack: event.wants_ack,
        })
    }
}

export_plugin!(Profanity);

mod glyph;
mod lexicon;
mod quick;
mod strings;
mod words;

#[cfg(test)]
mod tests;
