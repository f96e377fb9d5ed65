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

const fn l(c: u8) -> Letters {
    letter(c)
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
    table[b'v' as usize] = Glyph::Letter(l(b'v') | l(b'u'));
    table[b'V' as usize] = Glyph::Letter(l(b'v') | l(b'u'));
    let digits = [l(b'o'), l(b'i') | l(b'l'), 0, l(b'e'), l(b'a'), l(b's'), 0, l(b't'), l(b'b'), l(b'g')];
    let mut d = 0;
    while d < 10 {
        table[b'0' as usize + d] = Glyph::Digit(digits[d]);
        d += 1;
    }
    table[b'$' as usize] = Glyph::Symbol { letters: l(b's'), leads: true };
    table[b'@' as usize] = Glyph::Symbol { letters: l(b'a'), leads: true };
    table[b'!' as usize] = Glyph::Symbol { letters: l(b'i'), leads: false };
    table[b'|' as usize] = Glyph::Symbol { letters: l(b'i') | l(b'l'), leads: false };
    table[b'+' as usize] = Glyph::Symbol { letters: l(b't'), leads: false };
    table[b'(' as usize] = Glyph::Symbol { letters: l(b'c'), leads: false };
    table
};

/// Beyond ASCII: the Latin letters with diacritics, full-width forms, and the Cyrillic
/// and Greek letters that look like Latin ones.
fn wide(c: char) -> Glyph {
    let ascii = |a: u8| Glyph::Letter(letter(a));
    match c {
        '\u{FF01}'..='\u{FF5E}' => match char::from_u32(c as u32 - 0xFEE0) {
            Some(narrow) => glyph(narrow),
            None => Glyph::Break,
        },
        '\u{00AD}' | '\u{034F}' | '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' => Glyph::Invisible,
        '\u{0300}'..='\u{036F}' | '\u{FE00}'..='\u{FE0F}' => Glyph::Invisible,
        'à'..='å' | 'À'..='Å' | 'ā' | 'ă' | 'ą' | 'Ā' | 'Ă' | 'Ą' => ascii(b'a'),
        'ç' | 'Ç' | 'ć' | 'č' | 'Ć' | 'Č' => ascii(b'c'),
        'è'..='ë' | 'È'..='Ë' | 'ē' | 'ė' | 'ę' | 'ě' | 'Ē' | 'Ė' | 'Ę' | 'Ě' => ascii(b'e'),
        'ì'..='ï' | 'Ì'..='Ï' | 'ī' | 'į' | 'ı' | 'Ī' | 'Į' | 'İ' => ascii(b'i'),
        'ñ' | 'Ñ' | 'ń' | 'ň' | 'Ń' | 'Ň' => ascii(b'n'),
        'ò'..='ö' | 'ø' | 'Ò'..='Ö' | 'Ø' | 'ō' | 'ő' | 'Ō' | 'Ő' => ascii(b'o'),
        'ù'..='ü' | 'Ù'..='Ü' | 'ū' | 'ů' | 'ű' | 'Ū' | 'Ů' | 'Ű' => ascii(b'u'),
        'ý' | 'ÿ' | 'Ý' => ascii(b'y'),
        'ś' | 'š' | 'Ś' | 'Š' => ascii(b's'),
        'ź' | 'ż' | 'ž' | 'Ź' | 'Ż' | 'Ž' => ascii(b'z'),
        'ł' | 'Ł' => ascii(b'l'),
        'ß' => ascii(b's'),
        // Cyrillic look-alikes, lower and upper case.
        'а' | 'А' => ascii(b'a'),
        'в' | 'В' => ascii(b'b'),
        'с' | 'С' => ascii(b'c'),
        'е' | 'Е' | 'ё' | 'Ё' => ascii(b'e'),
        'н' | 'Н' => ascii(b'h'),
        'і' | 'І' | 'ї' | 'Ї' => ascii(b'i'),
        'ј' | 'Ј' => ascii(b'j'),
        'к' | 'К' => ascii(b'k'),
        'м' | 'М' => ascii(b'm'),
        'о' | 'О' => ascii(b'o'),
        'р' | 'Р' => ascii(b'p'),
        'ѕ' | 'Ѕ' => ascii(b's'),
        'т' | 'Т' => ascii(b't'),
        'у' | 'У' => ascii(b'y'),
        'х' | 'Х' => ascii(b'x'),
        // Greek look-alikes.
        'α' | 'Α' => ascii(b'a'),
        'β' | 'Β' => ascii(b'b'),
        'ε' | 'Ε' => ascii(b'e'),
        'η' | 'Η' => ascii(b'h'),
        'ι' | 'Ι' => ascii(b'i'),
        'κ' | 'Κ' => ascii(b'k'),
        'ν' | 'Ν' => Glyph::Letter(letter(b'v') | letter(b'u')),
        'ο' | 'Ο' => ascii(b'o'),
        'ρ' | 'Ρ' => ascii(b'p'),
        'τ' | 'Τ' => ascii(b't'),
        'υ' | 'Υ' => ascii(b'u'),
        'χ' | 'Χ' => ascii(b'x'),
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
        for c in [' ', '.', '-', '\n', '漢', '😀', '？'] {
            assert_eq!(glyph(c), Glyph::Break, "{c:?}");
        }
    }
}
