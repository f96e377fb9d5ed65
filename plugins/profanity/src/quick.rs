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

/// A byte beyond ASCII: it might be a letter, so the full reading must see the text.
const BEYOND: u8 = 31;

/// What a new run `c` after runs `a b` tells, indexed `a << 10 | b << 5 | c` (a class
/// that is not a letter stands for "no run yet"): [`OPENS_HEAD`] and [`OPENS_INNER`], a
/// pattern of that trie may open at `a` (with `a b c`, or `a b` if it is two runs long);
/// [`SUSPECT`], `c` may be part of a pattern whatever came before (a one-run pattern, or
/// `u` next to `v`).
type Steps = [u8; 1 << 15];
const OPENS_HEAD: u8 = 1;
const OPENS_INNER: u8 = 2;
const SUSPECT: u8 = 4;

/// Which of a step's bits count once a token has `runs` runs (at most 4 apart): the
/// first three runs may open a head pattern, later ones only an inner one.
const COUNTING: [u8; 5] = [0, SUSPECT, SUSPECT, SUSPECT | OPENS_HEAD, SUSPECT | OPENS_INNER];

/// The fast path for one list.
pub(crate) struct Quick {
    classes: [u8; 256],
    head: Table,
    inner: Table,
    steps: Box<Steps>,
}

impl Quick {
    pub(crate) fn new(head: &Openings, inner: &Openings) -> Quick {
        let mut classes = [BEYOND; 256];
        for (b, class) in (0u8..128).zip(classes.iter_mut()) {
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
        let alone = |c: u8| readings(c) & head.alone != 0;
        let (head, inner) = (Table::new(head), Table::new(inner));
        // `u` next to `v` (which reads u too: the only two classes that share a reading)
        // may be one run of a pattern (`fuvck`).
        const U: u8 = b'u' - b'a';
        let mut steps = Box::new([0; 1 << 15]);
        for a in 0..32u8 {
            for b in 0..32u8 {
                for c in 0..CLASSES as u8 {
                    let letters = usize::from(a) < CLASSES && usize::from(b) < CLASSES;
                    let mut step = 0;
                    if alone(c) || matches!((b, c), (U, V) | (V, U)) {
                        step |= SUSPECT;
                    }
                    if letters && head.opens(a, b, c) {
                        step |= OPENS_HEAD;
                    }
                    if letters && inner.opens(a, b, c) {
                        step |= OPENS_INNER;
                    }
                    steps[usize::from(a) << 10 | usize::from(b) << 5 | usize::from(c)] = step;
                }
            }
        }
        Quick { classes, head, inner, steps }
    }

    /// Whether `text` holds a listed pattern, if the fast path can tell: `word` gives the
    /// full reading of one plain word in which a pattern may begin. `None` means the
    /// whole text must be read in full.
    ///
    /// One loop, letters first, the token's state in locals: a letter that repeats the
    /// last costs a compare, a new run one lookup in [`Steps`].
    pub(crate) fn offends(&self, text: &str, word: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        let bytes = text.as_bytes();
        // The token being read: where it began (`usize::MAX` before it has), the classes
        // of its last two runs (older first), how many runs, whether a pattern may begin
        // in it as far as read, whether it holds a digit or symbol.
        let mut start = usize::MAX;
        let (mut a, mut b) = (BREAK, BREAK);
        let mut runs = 0usize;
        let mut suspect = false;
        let mut disguised = false;
        // One-character tokens in a row, each parted from the last by one separator, and
        // where the last of them ended.
        let (mut spelled, mut single_end) = (0, usize::MAX);
        let mut at = 0;
        loop {
            // The end of the text is read as one more break: it ends the last token.
            let class = bytes.get(at).map_or(BREAK, |&byte| self.classes[usize::from(byte)]);
            if usize::from(class) < CLASSES {
                if runs == 0 {
                    // A letter after a digit or symbol in one token: a disguise.
                    if disguised {
                        return None;
                    }
                    start = at;
                } else if class == b {
                    at += 1;
                    continue;
                }
                runs += 1;
                // Classes are below 32, so the mask changes nothing; it lets the compiler see
                // the index is in the table and drop the bounds check.
                let step = self.steps[(usize::from(a) << 10 | usize::from(b) << 5 | usize::from(class)) & 0x7fff];
                suspect |= step & COUNTING[runs.min(4)] != 0;
                (a, b) = (b, class);
                at += 1;
                continue;
            }
            if class == BEYOND {
                return None;
            }
            // As in the full reading, a symbol is punctuation unless a letter or digit
            // follows (`hello!`) and it is inside a word or may open one (`(yes)`); a
            // byte beyond ASCII might be a letter.
            let class = match class {
                SYMBOL | LEADING => {
                    let before_letter = bytes.get(at + 1).is_some_and(|&next| matches!(self.classes[usize::from(next)], 0..=DIGIT | BEYOND));
                    if before_letter && (start != usize::MAX || class == LEADING) { class } else { BREAK }
                }
                class => class,
            };
            if class != BREAK {
                // A digit or symbol: in a word of letters it is a disguise the full
                // reading must see; before any letter it starts a token that may be one.
                if runs > 0 {
                    return None;
                }
                disguised = true;
                if start == usize::MAX {
                    start = at;
                }
                at += 1;
                continue;
            }
            if start != usize::MAX {
                if at - start == 1 {
                    spelled = if single_end.wrapping_add(1) == start { spelled + 1 } else { 1 };
                    if spelled == 3 {
                        return None;
                    }
                    single_end = at;
                }
                // The last opening left undecided is at the token's last two runs.
                let table = if runs == 2 { &self.head } else { &self.inner };
                let suspect = suspect || (runs >= 2 && table.pairs[usize::from(a)] >> b & 1 != 0);
                if suspect && word(&text[start..at]) {
                    return Some(true);
                }
            }
            if at >= bytes.len() {
                return Some(false);
            }
            (start, a, b, runs, suspect, disguised) = (usize::MAX, BREAK, BREAK, 0, false, false);
            at += 1;
        }
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
