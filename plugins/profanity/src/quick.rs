//! The fast path: one pass over a message's bytes that passes most words of an ordinary
//! message without reading them as [`crate::words`] does.
//!
//! A listed pattern can only begin where a word's first runs are ones some pattern opens
//! with: its first three (`shi` for `shit`), or two for a two-run pattern (`as` for
//! `ass`), or one for a one-run pattern (`zz`). In a plain ASCII word a run is a letter
//! and its repeats, so a table lookup per letter decides, and only a word where a
//! pattern may begin is read in full. What the tables cannot vouch for sends the whole
//! message to the full reading: a byte beyond ASCII (look-alikes, accents, invisible
//! characters), a digit, or a symbol before a letter or digit, touching a letter
//! (leetspeak), or three one-character tokens each parted from the last by one separator
//! (letters spelled out).

use crate::glyph::{Glyph, Letters, glyph};
use crate::lexicon::Openings;

/// How the fast path sorts a byte: classes `0..26` are the letters `a`–`z`; `v`, which
/// also reads as `u`, has a class of its own.
const V: u8 = 26;
const CLASSES: usize = 27;
const DIGIT: u8 = 27;
/// Symbols that read as a letter before a letter or digit: inside a word (`!`, `|`, ...),
/// or also opening one (`$`, `@`).
const SYMBOL: u8 = 28;
const LEADING: u8 = 29;
const BREAK: u8 = 30;

/// The readings of a letter class.
fn readings(class: u8) -> Letters {
    if class == V { (1 << (b'v' - b'a')) | (1 << (b'u' - b'a')) } else { 1 << class }
}

/// One trie's openings over classes: bit `c` of `pairs[a]` says a two-run pattern
/// opens `a c`; of `triples[27 a + b]`, that a longer one opens `a b c`.
struct Table {
    pairs: [u32; CLASSES],
    triples: Box<[u32; CLASSES * CLASSES]>,
}

impl Table {
    fn new(openings: &Openings) -> Table {
        let mut table = Table { pairs: [0; CLASSES], triples: Box::new([0; CLASSES * CLASSES]) };
        for a in 0..CLASSES as u8 {
            for b in 0..CLASSES as u8 {
                let (ra, rb) = (readings(a), readings(b));
                if openings.may_open(ra, rb, 0) {
                    table.pairs[usize::from(a)] |= 1 << b;
                }
                for c in 0..CLASSES as u8 {
                    if openings.may_open(ra, rb, readings(c)) {
                        table.triples[CLASSES * usize::from(a) + usize::from(b)] |= 1 << c;
                    }
                }
            }
        }
        table
    }

    /// Whether a pattern opens with the runs `a b c`, or `a b` if it is two runs long.
    #[inline]
    fn opens(&self, a: u8, b: u8, c: u8) -> bool {
        self.pairs[usize::from(a)] >> b & 1 != 0 || self.triples[CLASSES * usize::from(a) + usize::from(b)] >> c & 1 != 0
    }
}

/// The fast path for one list.
pub(crate) struct Quick {
    classes: [u8; 128],
    head: Table,
    inner: Table,
    /// The classes that are a pattern by themselves (`zz`).
    alone: u32,
}

impl Quick {
    pub(crate) fn new(head: &Openings, inner: &Openings) -> Quick {
        let mut classes = [BREAK; 128];
        for (b, class) in (0u8..).zip(classes.iter_mut()) {
            *class = match glyph(b as char) {
                Glyph::Letter(_) if b.eq_ignore_ascii_case(&b'v') => V,
                Glyph::Letter(letters) => letters.trailing_zeros() as u8,
                Glyph::Digit(_) => DIGIT,
                Glyph::Symbol { leads: false, .. } => SYMBOL,
                Glyph::Symbol { leads: true, .. } => LEADING,
                Glyph::Invisible | Glyph::Break => BREAK,
            };
        }
        // Every pattern is in `head`, those that are one run included.
        let alone = (0..CLASSES as u8).filter(|&c| readings(c) & head.alone != 0).fold(0, |set, c| set | 1 << c);
        Quick { classes, head: Table::new(head), inner: Table::new(inner), alone }
    }

    /// Whether `text` holds a listed pattern, if the fast path can tell: `word` gives the
    /// full reading of one plain word in which a pattern may begin. `None` means the
    /// whole text must be read in full.
    pub(crate) fn offends(&self, text: &str, word: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        let mut token = Token::new();
        // One-character tokens in a row, each parted from the last by one separator, and
        // where the last of them ended.
        let (mut spelled, mut single_end) = (0, usize::MAX);
        let bytes = text.as_bytes();
        // The end of the text is read as one more break: it ends the last token.
        for (at, b) in bytes.iter().map(Some).chain([None]).enumerate() {
            let class = match b.map_or(Some(BREAK), |&b| self.classes.get(usize::from(b)).copied())? {
                // As in the full reading, a symbol is punctuation unless a letter or digit
                // follows (`hello!`) and it is inside a word or may open one (`(yes)`);
                // a byte beyond ASCII might be a letter.
                symbol @ (SYMBOL | LEADING) => {
                    let before_letter = bytes.get(at + 1).is_some_and(|&next| self.classes.get(usize::from(next)).is_none_or(|&c| c <= DIGIT));
                    if before_letter && (token.start != usize::MAX || symbol == LEADING) { symbol } else { BREAK }
                }
                class => class,
            };
            match class {
                BREAK => {
                    if token.start == usize::MAX {
                        continue;
                    }
                    if at - token.start == 1 {
                        spelled = if single_end.wrapping_add(1) == token.start { spelled + 1 } else { 1 };
                        if spelled == 3 {
                            return None;
                        }
                        single_end = at;
                    }
                    if self.suspect(&token) && word(&text[token.start..at]) {
                        return Some(true);
                    }
                    token = Token::new();
                }
                DIGIT | SYMBOL | LEADING if token.count > 0 => return None,
                DIGIT | SYMBOL | LEADING => {
                    token.disguised = true;
                    if token.start == usize::MAX {
                        token.start = at;
                    }
                }
                _ if token.disguised => return None,
                _ => self.letter(&mut token, at, class),
            }
        }
        Some(false)
    }

    /// Takes in a letter: a new run unless it repeats the last, and with three runs
    /// known, whether a pattern opens at the first of them.
    #[inline]
    fn letter(&self, token: &mut Token, at: usize, class: u8) {
        if token.count == 0 {
            token.start = at;
        } else if token.runs[1] == class {
            return;
        }
        // `u` next to `v` (which reads u too: the only two classes that share a reading)
        // may be one run of a pattern (`fuvck`).
        const U: u8 = b'u' - b'a';
        token.suspect |= self.alone >> class & 1 != 0 || matches!((token.runs[1], class), (U, V) | (V, U));
        let [a, b] = token.runs;
        token.runs = [b, class];
        token.count += 1;
        if token.count >= 3 {
            let table = if token.count == 3 { &self.head } else { &self.inner };
            token.suspect |= table.opens(a, b, class);
        }
    }

    /// Whether a pattern may begin in the token, now that it has ended: the last
    /// opening left undecided is at its last two runs.
    fn suspect(&self, token: &Token) -> bool {
        let [a, b] = token.runs;
        let table = if token.count == 2 { &self.head } else { &self.inner };
        token.suspect || (token.count >= 2 && table.pairs[usize::from(a)] >> b & 1 != 0)
    }
}

/// The token being read.
struct Token {
    /// Where it began; `usize::MAX` before it has.
    start: usize,
    /// The classes of its last two runs, older first.
    runs: [u8; 2],
    /// Runs so far.
    count: u32,
    /// Whether a pattern may begin in it, as far as read.
    suspect: bool,
    /// Whether it holds a digit or symbol.
    disguised: bool,
}

impl Token {
    fn new() -> Token {
        Token { start: usize::MAX, runs: [BREAK; 2], count: 0, suspect: false, disguised: false }
    }
}

#[cfg(test)]
mod tests {
    use crate::lexicon::{Lexicon, Severity};
    use crate::words::Words;

    fn lexicon() -> Lexicon {
        Lexicon::new(Severity::Mild, &["zz".into(), "*qux".into()], &[]).unwrap()
    }

    /// Whether the full reading finds anything in `text`.
    fn found(lexicon: &Lexicon, text: &str) -> bool {
        Words::default().any(text, &mut |runs| lexicon.find(text, runs, &mut |_| true))
    }

    /// The fast path's answer, and the words it read in full.
    fn quick(lexicon: &Lexicon, text: &str) -> (Option<bool>, Vec<String>) {
        let mut read = Vec::new();
        let verdict = lexicon.quick_offends(text, &mut |word| {
            read.push(word.to_owned());
            found(lexicon, word)
        });
        (verdict, read)
    }

    #[test]
    fn ordinary_text_takes_the_fast_path_reading_few_words_in_full() {
        let lexicon = lexicon();
        for text in ["lorem ipsum dolor sit amet consectetur", "", "ok", "10:30 works for me", "I'm in", "a b", "yes! (ok)"] {
            assert_eq!(quick(&lexicon, text), (Some(false), vec![]), "{text:?}");
        }
        let (verdict, read) = quick(&lexicon, "see the cheap shiny shots, as, Zed");
        assert_eq!(verdict, Some(false));
        assert_eq!(read, ["shiny", "as", "Zed"], "three runs that open a pattern (shi...), two (ass), one (zz)");
        assert_eq!(quick(&lexicon, "what the fuck, man"), (Some(true), vec!["fuck".to_owned()]));
    }

    #[test]
    fn what_it_cannot_vouch_for_sends_the_message_to_the_full_reading() {
        let lexicon = lexicon();
        for text in ["sh1t", "$hit", "sh!t", "a5s", "f u c k", "fück", "f\u{200B}uck", "4 5 5", "so a b c", "hi!é"] {
            assert_eq!(quick(&lexicon, text), (None, vec![]), "{text:?}");
        }
    }

    /// Where the fast path answers, it answers as the full reading does, over a quarter
    /// of a million random strings drawn from letters the list opens with, disguises and
    /// separators.
    #[test]
    fn never_clean_where_the_full_reading_finds_a_match() {
        let lexicon = lexicon();
        let alphabet: Vec<char> = "fuckshitbasdonqxzvr egjlmpwy FUCK  1!$@5.-'é(|+".chars().collect();
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut fast, mut flagged) = (0, 0);
        for _ in 0..250_000 {
            let len = next(14);
            let text: String = (0..len).map(|_| alphabet[next(alphabet.len())]).collect();
            let hit = found(&lexicon, &text);
            flagged += usize::from(hit);
            if let (Some(verdict), _) = quick(&lexicon, &text) {
                fast += 1;
                assert_eq!(verdict, hit, "the fast path on {text:?}");
            }
        }
        assert!(fast > 50_000 && flagged > 200, "both paths exercised: {fast} fast, {flagged} flagged");
    }
}
