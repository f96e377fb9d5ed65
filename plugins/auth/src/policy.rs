//! Room patterns: what a `join` or `publish` names, and whether a pattern admits a room.

use serde_json::Value;

/// The room names of a `join` argument or a `publish` envelope's `to`: a name or a list.
pub(crate) fn room_names(value: &Value) -> Vec<String> {
    match value {
        Value::String(room) => vec![room.clone()],
        Value::Array(rooms) => rooms.iter().filter_map(|r| r.as_str().map(str::to_owned)).collect(),
        _ => Vec::new(),
    }
}

/// Whether `room` matches `pattern`, where `*` stands for any run of characters: the text
/// before the first `*` must start the name, the text after the last must end it, and the
/// pieces between must appear in order in what is left.
pub fn matches(pattern: &str, room: &str) -> bool {
    let pieces: Vec<&str> = pattern.split('*').collect();
    let [first, middle @ .., last] = pieces.as_slice() else { return pattern == room };
    if room.len() < first.len() + last.len() || !room.starts_with(first) || !room.ends_with(last) {
        return false;
    }
    let mut rest = &room[first.len()..room.len() - last.len()];
    for piece in middle {
        match rest.find(piece) {
            Some(at) => rest = &rest[at + piece.len()..],
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_like_globs() {
        let table = [
            ("*", "anything", true),
            ("room-*", "room-7", true),
            ("room-*", "lobby", false),
            ("dm-*-*", "dm-alice-bob", true),
            ("*-admin", "ops-admin", true),
            ("a*b*c", "abc", true),
            ("a*b*c", "acb", false),
            ("lobby", "lobby", true),
            ("lobby", "lobby2", false),
            ("ab*ba", "aba", false),
        ];
        for (pattern, room, expected) in table {
            assert_eq!(matches(pattern, room), expected, "{pattern:?} vs {room:?}");
        }
    }
}
