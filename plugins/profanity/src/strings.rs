//! Every string value in a JSON array of arguments, read in place: no values are built,
//! and a string without escapes is never copied. A [`Reader`] first looks at each string
//! where it lies; only one it cannot vouch for is decoded and checked as text. The host
//! hands plugins well-formed JSON; on anything else this reads what it can and never
//! panics.

/// How a fast look at a JSON string, where it lies, ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Scan {
    /// Nothing found; the string's closing quote is here (or the input ends here).
    Clean(usize),
    /// Something found.
    Offends,
    /// The look cannot tell (an escape, say): the string must be decoded and checked.
    Unsure,
}

/// What is asked of each string: a fast look at it in place, and for a string the look
/// could not vouch for, a check of its decoded text.
pub(crate) trait Reader {
    /// Looks at the string whose body begins at `from` in `json`.
    fn look(&mut self, json: &str, from: usize) -> Scan;
    /// Whether the decoded `text` offends.
    fn check(&mut self, text: &str) -> bool;
}

/// Whether `reader` finds anything in any string value (object keys aside) in the JSON
/// array `args`, past its first `skip` elements. Stops at the first it does. Text that
/// is not a JSON array has no strings.
///
/// The elements skipped are walked byte by byte, to tell where they end. From there on
/// the array's structure no longer matters (roomd hands over one well-formed array, so
/// every quote outside a string opens one): the walk jumps from string to string, and
/// the bytes between them (numbers, brackets, commas) are never looked at one by one.
/// Most strings are passed by the reader's look alone, which also tells where they end;
/// keys among them need no telling apart, since nothing was found.
pub(crate) fn any(args: &str, skip: usize, reader: &mut impl Reader) -> bool {
    let bytes = args.as_bytes();
    let Some(open) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else { return false };
    if bytes[open] != b'[' {
        return false;
    }
    let Some(mut at) = past(bytes, open + 1, skip) else { return false };
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = at + found + 1;
        let look = reader.look(args, start);
        if let Scan::Clean(end) = look {
            at = end + 1;
            continue;
        }
        let (end, escaped) = string_end(bytes, start);
        at = end + 1;
        if is_key(bytes, at) {
            continue;
        }
        if look == Scan::Offends {
            return true;
        }
        let raw = &args[start..end.min(args.len())];
        if if escaped { reader.check(&unescape(raw)) } else { reader.check(raw) } {
            return true;
        }
    }
    false
}

/// Where the elements of the array whose first begins at `at` go on after the first
/// `skip` of them (just past the comma that ends the last one skipped); `None` if the
/// array ends first.
fn past(bytes: &[u8], mut at: usize, skip: usize) -> Option<usize> {
    let (mut depth, mut element) = (1usize, 0usize);
    // Strings are walked here too: a short one costs less so than a search for its end.
    let mut in_string = false;
    while element < skip {
        let &b = bytes.get(at)?;
        at += 1;
        if in_string {
            match b {
                b'\\' => at += 1,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return None;
                }
            }
            b',' if depth == 1 => element += 1,
            _ => {}
        }
    }
    Some(at)
}

/// Whether the string that closed just before `at` is an object's key: a colon follows.
fn is_key(bytes: &[u8], at: usize) -> bool {
    bytes.get(at..).and_then(|rest| rest.iter().find(|b| !b.is_ascii_whitespace())) == Some(&b':')
}

/// The text of a JSON string's body, escapes decoded. Lenient where JSON's grammar is and
/// a strict decoder is not: a lone surrogate (`\ud800`, which a client can send and a
/// browser will show) becomes U+FFFD rather than hiding the rest of the string.
fn unescape(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    let hex = |chars: &mut std::str::Chars<'_>| {
        let digits: String = chars.by_ref().take(4).collect();
        u32::from_str_radix(&digits, 16).ok().filter(|_| digits.len() == 4)
    };
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('n') => out.push('\n'),
            Some('t') => out.push('\t'),
            Some('r') => out.push('\r'),
            Some('b') => out.push('\u{8}'),
            Some('f') => out.push('\u{c}'),
            Some('u') => {
                let unit = hex(&mut chars);
                let decoded = match unit {
                    Some(high @ 0xD800..=0xDBFF) => {
                        // A pair only if a low surrogate escape follows at once.
                        let mut ahead = chars.clone();
                        match (ahead.next(), ahead.next(), hex(&mut ahead)) {
                            (Some('\\'), Some('u'), Some(low @ 0xDC00..=0xDFFF)) => {
                                chars = ahead;
                                char::from_u32(0x10000 + ((high - 0xD800) << 10) + (low - 0xDC00))
                            }
                            _ => None,
                        }
                    }
                    Some(unit) => char::from_u32(unit),
                    None => None,
                };
                out.push(decoded.unwrap_or(char::REPLACEMENT_CHARACTER));
            }
            Some(other) => out.push(other),
            None => {}
        }
    }
    out
}

/// Where the string whose text begins at `start` ends (its closing quote, or the end of
/// the input), and whether it holds an escape.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut escaped = false;
    let mut at = start;
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
        at += found;
        if bytes[at] == b'"' {
            return (at, escaped);
        }
        escaped = true;
        at += 2;
    }
    (bytes.len(), escaped)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reader that notes what it is shown. With `look` it looks as a fast path would:
    /// a string without escapes is passed in place, and `bad` is found there.
    #[derive(Default)]
    struct Notes {
        look: bool,
        looked: Vec<String>,
        checked: Vec<String>,
    }

    impl Reader for Notes {
        fn look(&mut self, json: &str, from: usize) -> Scan {
            let body = &json[from..];
            let end = body.find('"').unwrap_or(body.len());
            if !self.look || body[..end].contains('\\') {
                return Scan::Unsure;
            }
            self.looked.push(body[..end].to_owned());
            if &body[..end] == "bad" { Scan::Offends } else { Scan::Clean(from + end) }
        }

        fn check(&mut self, text: &str) -> bool {
            self.checked.push(text.to_owned());
            text == "bad"
        }
    }

    /// Every string the reader is asked to check, when it cannot look.
    fn strings(args: &str, skip: usize) -> Vec<String> {
        let mut notes = Notes::default();
        any(args, skip, &mut notes);
        notes.checked
    }

    #[test]
    fn every_string_value_at_any_depth_once() {
        let args = r#"[{"to":"room-1","event":"m"},7,"plain",{"nested":["a",{"b":"c\"d"}],"n":null,"t":true},-1.5]"#;
        assert_eq!(strings(args, 0), ["room-1", "m", "plain", "a", "c\"d"]);
        assert_eq!(strings(args, 1), ["plain", "a", "c\"d"], "the first argument skipped");
        assert_eq!(strings(args, 9), Vec::<String>::new());
        assert_eq!(strings("not json", 0), Vec::<String>::new());
        assert_eq!(strings(r#"{"a":"b"}"#, 0), Vec::<String>::new(), "arguments are an array");
        assert_eq!(strings(r#" [ "a" , {"k" : "v", "e":"\u00e9\n"} ] "#, 0), ["a", "v", "é\n"], "space and escapes");
        assert_eq!(strings(r#"[["x",1],"y"]"#, 1), ["y"], "a nested array is one element");
        assert_eq!(strings(r#"[{"a":[1,2],"b":"x,]"},"z",{"k":"v"}]"#, 1), ["z", "v"], "what the skipped element holds");
        assert_eq!(strings(r#"[{"a\"":"x\"],\\"},"z"]"#, 1), ["z"], "escaped quotes in the skipped element");
        assert_eq!(strings(r#"["\ud83d\ude00 \ud800 bad \udc00","\"\\\/\b\f\r\t"]"#, 0), ["😀 \u{FFFD} bad \u{FFFD}", "\"\\/\u{8}\u{c}\r\t"], "pairs, lone surrogates");
    }

    #[test]
    fn malformed_text_reads_what_it_can() {
        for text in [r#"["unterminated"#, r#"["a\"#, "[", "]", r#"["a"]]]"#, r#"[{"k":"#, ""] {
            let _ = strings(text, 0);
        }
        assert_eq!(strings(r#"["a"]]]"#, 0), ["a"]);
    }

    #[test]
    fn stops_at_the_first_hit() {
        let mut notes = Notes::default();
        assert!(any(r#"["x","bad","y","z"]"#, 0, &mut notes));
        assert_eq!(notes.checked, ["x", "bad"]);
    }

    #[test]
    fn a_look_passes_strings_in_place_and_what_it_cannot_vouch_for_is_decoded() {
        let mut notes = Notes { look: true, ..Notes::default() };
        let args = r#"[{"to":"r"},"plain",{"k":"v\"q","n":["a\u0062c"]},"last"]"#;
        assert!(!any(args, 1, &mut notes));
        assert_eq!(notes.looked, ["plain", "k", "n", "last"], "keys are looked at too: passed, they need no telling apart");
        assert_eq!(notes.checked, ["v\"q", "abc"]);
        let mut notes = Notes { look: true, ..Notes::default() };
        assert!(!any(r#"[{"bad":1, "x": "y"}]"#, 0, &mut notes), "found in a key: not a value");
        assert_eq!(notes.looked, ["bad", "x", "y"]);
        let mut notes = Notes { look: true, ..Notes::default() };
        assert!(any(r#"[{"x":"bad"},"never"]"#, 0, &mut notes), "found in a value");
        assert_eq!(notes.looked, ["x", "bad"]);
    }
}
