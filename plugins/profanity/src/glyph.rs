//! What one character of a message may stand for: the letters it can be read as (`4` is
//! `a`, `1` is `i` or `l`, Cyrillic `с` is `c`, full-width `ｆ` is `f`, `é` is `e`), or
//! that it separates words, or that it is invisible and read past. Knows nothing of
//! words or of the list; [`crate::words`] builds words from glyphs.

/// A set of the letters `a`–`z`, bit 0 for `a`.
pub(crate) type Letters = u32;

/// The set holding just `letter` (an ASCII lowercase letter).
pub(crate) const fn letter(letter: u8) -> Letters {
    1 << (letter - b'a')
}

/// How a character reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Glyph {
    /// A letter, in any case, accented, full-width or a look-alike from another script.
    Letter(Letters),
    /// A digit; the letters it can pass for, if any (`0` → `o`; `2` → none).
    Digit(Letters),
    /// A symbol that stands for a letter inside a word (`$h!t`, `@ss`) and is
    /// punctuation elsewhere. `leads` says it may also open a word (`$`, `@`).
    Symbol { letters: Letters, leads: bool },
    /// Zero-width and combining characters, soft hyphens: read past, as if absent.
    Invisible,
    /// Anything else: white space, punctuation, other scripts, emoji.
    Break,
}

/// How `c` reads.
#[inline]
pub(crate) fn glyph(c: char) -> Glyph {
    if c.is_ascii() { ASCII[c as usize] } else { wide(c) }
}

/// The ASCII table, built once at compile time.
static ASCII: [Glyph; 128] = {
    let mut table = [Glyph::Break; 128];
    let mut c = b'a';
    while c <= b'z' {
        table[c as usize] = Glyph::Letter(letter(c));
        table[(c - 32) as usize] = Glyph::Letter(letter(c));
        c += 1;
    }
    // `v` is also a `u` (`fvck`).
    table[b'v' as usize] = Glyph::Letter(letter(b'v') | letter(b'u'));
    table[b'V' as usize] = Glyph::Letter(letter(b'v') | letter(b'u'));
    let digits = [letter(b'o'), letter(b'i') | letter(b'l'), 0, letter(b'e'), letter(b'a'), letter(b's'), 0, letter(b't'), letter(b'b'), letter(b'g')];
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = Glyph::Digit(digits[d]);
        d += 1;
    }
    table[b'$' as usize] = Glyph::Symbol { letters: letter(b's'), leads: true };
    table[b'@' as usize] = Glyph::Symbol { letters: letter(b'a'), leads: true };
    table[b'!' as usize] = Glyph::Symbol { letters: letter(b'i'), leads: false };
    table[b'|' as usize] = Glyph::Symbol { letters: letter(b'i') | letter(b'l'), leads: false };
    table[b'+' as usize] = Glyph::Symbol { letters: letter(b't'), leads: false };
    table[b'(' as usize] = Glyph::Symbol { letters: letter(b'c'), leads: false };
    table
};

/// Beyond ASCII: the Latin letters with diacritics, full-width forms, and the Cyrillic
/// and Greek letters that look like Latin ones. Any other letter is a letter that stands
/// for none of `a`–`z`: it keeps its word whole (`fũck` is not `f` and `ck`) and matches
/// nothing.
fn wide(c: char) -> Glyph {
    match c {
        '\u{FF01}'..='\u{FF5E}' => return char::from_u32(c as u32 - 0xFEE0).map_or(Glyph::Break, glyph),
        '\u{00AD}' | '\u{034F}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' => return Glyph::Invisible,
        '\u{0300}'..='\u{036F}' | '\u{FE00}'..='\u{FE0F}' => return Glyph::Invisible,
        _ => {}
    }
    let lower = c.to_lowercase().next().unwrap_or(c);
    if lower.is_ascii() {
        // The Kelvin sign, a dotted capital I, ...
        return glyph(lower);
    }
    let ascii = |a: u8| Glyph::Letter(letter(a));
    match lower {
        'à'..='å' | 'ā' | 'ă' | 'ą' | 'ǎ' => ascii(b'a'),
        'ç' | 'ć' | 'ĉ' | 'ċ' | 'č' => ascii(b'c'),
        'ď' | 'đ' => ascii(b'd'),
        'è'..='ë' | 'ē' | 'ĕ' | 'ė' | 'ę' | 'ě' => ascii(b'e'),
        'ƒ' => ascii(b'f'),
        'ĝ' | 'ğ' | 'ġ' | 'ģ' => ascii(b'g'),
        'ĥ' | 'ħ' => ascii(b'h'),
        'ì'..='ï' | 'ĩ' | 'ī' | 'ĭ' | 'į' | 'ı' | 'ǐ' => ascii(b'i'),
        'ĵ' => ascii(b'j'),
        'ķ' => ascii(b'k'),
        'ĺ' | 'ļ' | 'ľ' | 'ŀ' | 'ł' => ascii(b'l'),
        'ñ' | 'ń' | 'ņ' | 'ň' => ascii(b'n'),
        'ò'..='ö' | 'ø' | 'ō' | 'ŏ' | 'ő' | 'ǒ' => ascii(b'o'),
        'ŕ' | 'ŗ' | 'ř' => ascii(b'r'),
        'ś' | 'ŝ' | 'ş' | 'š' | 'ș' | 'ß' => ascii(b's'),
        'ţ' | 'ť' | 'ŧ' | 'ț' => ascii(b't'),
        'ù'..='ü' | 'ũ' | 'ū' | 'ŭ' | 'ů' | 'ű' | 'ų' | 'ǔ' => ascii(b'u'),
        'ŵ' => ascii(b'w'),
        'ý' | 'ÿ' | 'ŷ' => ascii(b'y'),
        'ź' | 'ż' | 'ž' => ascii(b'z'),
        // Cyrillic look-alikes.
        'а' => ascii(b'a'),
        'в' => ascii(b'b'),
        'с' => ascii(b'c'),
        'е' | 'ё' => ascii(b'e'),
        'н' => ascii(b'h'),
        'і' | 'ї' => ascii(b'i'),
        'ј' => ascii(b'j'),
        'к' => ascii(b'k'),
        'м' => ascii(b'm'),
        'о' => ascii(b'o'),
        'р' => ascii(b'p'),
        'ѕ' => ascii(b's'),
        'т' => ascii(b't'),
        'у' => ascii(b'y'),
        'х' => ascii(b'x'),
        // Greek look-alikes.
        'α' => ascii(b'a'),
        'β' => ascii(b'b'),
        'ε' => ascii(b'e'),
        'η' => ascii(b'h'),
        'ι' => ascii(b'i'),
        'κ' => ascii(b'k'),
        'ν' => Glyph::Letter(letter(b'v') | letter(b'u')),
        'ο' => ascii(b'o'),
        'ρ' => ascii(b'p'),
        'τ' => ascii(b't'),
        'υ' => ascii(b'u'),
        'χ' => ascii(b'x'),
        other if other.is_alphabetic() => Glyph::Letter(0),
        _ => Glyph::Break,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_letters_through_their_disguises() {
        let f = Glyph::Letter(letter(b'f'));
        for c in ['f', 'F', 'ｆ', 'Ｆ'] {
            assert_eq!(glyph(c), f, "{c:?}");
        }
        assert_eq!(glyph('с'), Glyph::Letter(letter(b'c')), "Cyrillic es");
        assert_eq!(glyph('é'), Glyph::Letter(letter(b'e')));
        assert_eq!(glyph('1'), Glyph::Digit(letter(b'i') | letter(b'l')));
        assert_eq!(glyph('2'), Glyph::Digit(0));
        assert_eq!(glyph('$'), Glyph::Symbol { letters: letter(b's'), leads: true });
        assert_eq!(glyph('!'), Glyph::Symbol { letters: letter(b'i'), leads: false });
        assert_eq!(glyph('\u{200B}'), Glyph::Invisible, "zero-width space");
        assert_eq!(glyph('\u{0301}'), Glyph::Invisible, "combining acute");
        for (c, ascii) in [('Ũ', b'u'), ('ş', b's'), ('ƒ', b'f'), ('Ё', b'e'), ('\u{212A}', b'k')] {
            assert_eq!(glyph(c), Glyph::Letter(letter(ascii)), "{c:?}");
        }
        for c in ['漢', 'ж', 'ש'] {
            assert_eq!(glyph(c), Glyph::Letter(0), "{c:?}: a letter, of none of a–z");
        }
        for c in [' ', '.', '-', '\n', '😀', '？', '€'] {
            assert_eq!(glyph(c), Glyph::Break, "{c:?}");
        }
    }
}
