//! Every string value in a JSON array of arguments, read in place: no values are built,
//! and a string without escapes is never copied. The host hands plugins well-formed JSON;
//! on anything else this reads what it can and never panics.

/// Whether `check` holds for any string value (object keys aside) in the JSON array
/// `args`, past its first `skip` elements. Stops at the first that does. Text that is not
/// a JSON array has no strings.
///
/// The elements skipped are walked byte by byte, to tell where they end. From there on
/// the array's structure no longer matters (roomd hands over one well-formed array, so
/// every quote outside a string opens one): the walk jumps from string to string, and
/// the bytes between them (numbers, brackets, commas) are never looked at one by one.
pub(crate) fn any(args: &str, skip: usize, check: &mut dyn FnMut(&str) -> bool) -> bool {
    let bytes = args.as_bytes();
    let Some(open) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else { return false };
    if bytes[open] != b'[' {
        return false;
    }
    let Some(mut at) = past(bytes, open + 1, skip) else { return false };
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memchr(b'"', rest)) {
        let start = at + found + 1;
        let (end, escaped) = string_end(bytes, start);
        at = end + 1;
        if is_key(bytes, at) {
            continue;
        }
        let raw = &args[start..end.min(args.len())];
        if if escaped { check(&unescape(raw)) } else { check(raw) } {
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
    while element < skip {
        let &b = bytes.get(at)?;
        at += 1;
        match b {
            b'"' => at = string_end(bytes, at).0 + 1,
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

    fn strings(args: &str, skip: usize) -> Vec<String> {
        let mut seen = Vec::new();
        any(args, skip, &mut |text| {
            seen.push(text.to_owned());
            false
        });
        seen
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
        let mut calls = 0;
        let hit = any(r#"["x","bad","y","z"]"#, 0, &mut |text| {
            calls += 1;
            text == "bad"
        });
        assert!(hit);
        assert_eq!(calls, 2);
    }
}
