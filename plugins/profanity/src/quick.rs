//! The fast path: a pass over a message's bytes that passes most words of an ordinary
//! message without reading them as [`crate::words`] does. It reads plain text, or a
//! string where it lies in the event's JSON, up to its closing quote.
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
//!
//! It is two passes. The first, [`plain`], only tells whether the text is letters and
//! breaks in which no word needs a closer look, and it is built to be fast compiled to
//! WebAssembly; most chat messages are decided there. The second, [`Quick::scan`],
//! reads the rest: it knows where words begin, reads the doubtful ones in full and
//! tells exactly which disguises and spellings it cannot vouch for.

use crate::glyph::{Glyph, Letters, glyph};
use crate::lexicon::Openings;
use crate::strings::Scan;

/// How the fast path sorts a byte: classes `0..26` are the letters `a`–`z`; `v`, which
/// also reads as `u`, has a class of its own.
const V: u8 = 26;
const CLASSES: usize = 27;
/// White space and punctuation; also "no run" in a token's window of runs.
const BREAK: u8 = 27;
const DIGIT: u8 = 28;
/// Symbols that read as a letter before a letter or digit: inside a word (`!`, `|`, ...),
/// or also opening one (`$`, `@`).
const SYMBOL: u8 = 29;
const LEADING: u8 = 30;

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

/// The end of the text.
const END: u8 = 31;
/// A byte beyond ASCII: it might be a letter, so the full reading must see the text.
const BEYOND: u8 = 32;
/// In a JSON string, a backslash: the escape may stand for a letter.
const ESCAPE: u8 = 33;
/// In a JSON string, a quote: its end.
const QUOTE: u8 = 34;

/// Whether a new run `c` after runs `a b` may be part of a pattern, indexed by whether it
/// is its token's third run, then by `a << 10 | b << 5 | c` (a break stands for "no run
/// yet"): a pattern may open at `a` (with `a b c`, or `a b` if it is two runs long: `c`
/// is then anything, a break too), of the head trie for a third run, of the inner trie
/// for a later one; or `c` may be part of a pattern whatever came before (a one-run
/// pattern, or `u` next to `v`). A token's first two runs have "no run" in their window,
/// so only the last can hold for them.
///
/// Kept as bits, 8 KiB in all: the filter runs between bursts of relaying, which push
/// out of the caches whatever it does not touch often.
struct Steps([[u64; STEPS / 64]; 2]);
const STEPS: usize = 1 << 15;
/// A token's run window before its first run.
const NO_RUNS: usize = (BREAK as usize) << 5 | BREAK as usize;

/// The fast path for one list.
pub(crate) struct Quick {
    /// What the loops look up, in one allocation.
    tables: Box<Tables>,
}

/// The byte classes and the steps, behind one pointer: the first pass keeps its values
/// in registers only if there are few of them.
struct Tables {
    /// Each byte's class in plain text, and in the body of a JSON string (where a quote
    /// ends it and a backslash escapes).
    classes: [[u8; 256]; 2],
    steps: Steps,
}

impl Steps {
    /// The step for window `at` of a third run, or of a later one.
    #[inline(always)]
    fn get(&self, third: bool, at: usize) -> bool {
        let at = at & (STEPS - 1);
        self.0[usize::from(third)][at / 64] >> (at % 64) & 1 != 0
    }

    fn set(&mut self, third: bool, at: usize) {
        self.0[usize::from(third)][at / 64] |= 1 << (at % 64);
    }
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
        let mut steps = Steps([[0; STEPS / 64]; 2]);
        for a in 0..32u8 {
            for b in 0..32u8 {
                // A break after runs `a b` ends the token: a two-run pattern may open at `a`.
                for c in 0..=BREAK {
                    let letters = usize::from(a) < CLASSES && usize::from(b) < CLASSES;
                    let suspect = alone(c) || matches!((b, c), (U, V) | (V, U));
                    let at = usize::from(a) << 10 | usize::from(b) << 5 | usize::from(c);
                    if suspect || letters && inner.opens(a, b, c) {
                        steps.set(false, at);
                    }
                    if suspect || letters && head.opens(a, b, c) {
                        steps.set(true, at);
                    }
                }
            }
        }
        let mut json_classes = classes;
        json_classes[usize::from(b'"')] = QUOTE;
        json_classes[usize::from(b'\\')] = ESCAPE;
        Quick { tables: Box::new(Tables { classes: [classes, json_classes], steps }) }
    }

    /// Whether `text` holds a listed pattern, if the fast path can tell: `word` gives the
    /// full reading of one plain word in which a pattern may begin. `None` means the
    /// whole text must be read in full.
    pub(crate) fn offends(&self, text: &str, word: &mut dyn FnMut(&str) -> bool) -> Option<bool> {
        if plain::<false>(&self.tables, text.as_bytes()).is_some() {
            return Some(false);
        }
        match self.scan::<false>(text, 0, word) {
            Scan::Clean(_) => Some(false),
            Scan::Offends => Some(true),
            Scan::Unsure => None,
        }
    }

    /// [`offends`](Self::offends) for the body of a JSON string that begins at `from` in
    /// `json`, read where it lies: the scan ends at the closing quote, and an escape is
    /// something it cannot vouch for (the caller decodes the string and reads that).
    pub(crate) fn offends_in_json(&self, json: &str, from: usize, word: &mut dyn FnMut(&str) -> bool) -> Scan {
        let body = json.as_bytes().get(from..).unwrap_or_default();
        match plain::<true>(&self.tables, body) {
            Some(length) => Scan::Clean(from + length),
            None => self.scan::<true>(json, from, word),
        }
    }

    /// The second pass, behind both: letters first, the token's state in locals. A
    /// letter that repeats the last costs a compare, a new run one lookup in [`Steps`].
    fn scan<const JSON: bool>(&self, text: &str, from: usize, word: &mut dyn FnMut(&str) -> bool) -> Scan {
        let classes = &self.tables.classes[usize::from(JSON)];
        let bytes = text.as_bytes();
        // The token being read: where it began (`usize::MAX` before it has), its last
        // three runs' classes (five bits each, newest lowest; "no run" is a break), how
        // many runs, whether a pattern may begin in it as far as read, whether it holds a
        // digit or symbol.
        let mut start = usize::MAX;
        let mut window = NO_RUNS;
        let mut runs = 0usize;
        let mut suspect = false;
        let mut disguised = false;
        // One-character tokens in a row, each parted from the last by one separator, and
        // where the last of them ended.
        let (mut spelled, mut single_end) = (0, usize::MAX);
        let mut at = from;
        loop {
            // The end of the text is read as one more break: it ends the last token.
            let class = bytes.get(at).map_or(END, |&byte| classes[usize::from(byte)]);
            if usize::from(class) < CLASSES {
                if usize::from(class) == window & 31 {
                    at += 1;
                    continue;
                }
                if runs == 0 {
                    // A letter after a digit or symbol in one token: a disguise.
                    if disguised {
                        return Scan::Unsure;
                    }
                    start = at;
                }
                runs += 1;
                window = (window << 5 | usize::from(class)) & (STEPS - 1);
                suspect |= self.tables.steps.get(runs == 3, window);
                at += 1;
                continue;
            }
            // As in the full reading, a symbol is punctuation unless a letter or digit
            // follows (`hello!`) and it is inside a word or may open one (`(yes)`); a
            // byte beyond ASCII or an escape might be a letter.
            let class = match class {
                BEYOND | ESCAPE => return Scan::Unsure,
                QUOTE => END,
                SYMBOL | LEADING => {
                    let next = bytes.get(at + 1).map_or(END, |&next| classes[usize::from(next)]);
                    if may_be_letter_or_digit(next) && (start != usize::MAX || class == LEADING) { class } else { BREAK }
                }
                class => class,
            };
            if class == DIGIT || class == SYMBOL || class == LEADING {
                // A digit or symbol: in a word of letters it is a disguise the full
                // reading must see; before any letter it starts a token that may be one.
                if runs > 0 {
                    return Scan::Unsure;
                }
                disguised = true;
                if start == usize::MAX {
                    start = at;
                }
                at += 1;
                continue;
            }
            // A break, or the end.
            if start != usize::MAX {
                if at - start == 1 {
                    spelled = if single_end.wrapping_add(1) == start { spelled + 1 } else { 1 };
                    if spelled == 3 {
                        return Scan::Unsure;
                    }
                    single_end = at;
                }
                // The last opening left undecided is at the token's last two runs: the
                // steps answer for a break after them as for one more run.
                let suspect = suspect || self.tables.steps.get(runs == 2, window << 5 | usize::from(BREAK));
                if suspect && word(&text[start..at]) {
                    return Scan::Offends;
                }
            }
            if class == END {
                return Scan::Clean(at);
            }
            (start, window, runs, suspect, disguised) = (usize::MAX, NO_RUNS, 0, false, false);
            at += 1;
        }
    }
}

/// The first pass: how long `text` is (up to the closing quote, in JSON) if no word in
/// it needs a closer look; `None` if one does, or if it holds anything but letters and
/// breaks (a digit, a symbol before a letter or digit, a byte beyond ASCII, an escape),
/// or if two one-run tokens come in a row (that may be letters spelled out). The second
/// pass, [`Quick::scan`], tells those exactly.
///
/// The loop's state is one word: the classes of the last six runs, a break being one
/// run (breaks in a row are one, as a letter's repeats are). That tells all it needs:
/// a token's third run has a break four runs back; a token's end is a break after its
/// runs, and the steps answer for it as for a letter (a two-run pattern may open at its
/// last two runs); two one-run tokens in a row are break, letter, break, letter, break.
/// With the tables behind one pointer and the text's two, that is few enough values to
/// stay in registers once compiled to WebAssembly and on to machine code, where a loop
/// has only a handful to spare.
#[inline(never)]
fn plain<const JSON: bool>(tables: &Tables, text: &[u8]) -> Option<usize> {
    let classes = &tables.classes[usize::from(JSON)];
    let mut runs = ONLY_BREAKS;
    let mut rest = text.iter();
    loop {
        // Four bytes a turn: the loop's upkeep (in WebAssembly, a check for a timeout
        // and the values it puts back on the stack) is paid once for four.
        for _ in 0..4 {
            let Some(&byte) = rest.next() else {
                return advance(&tables.steps, runs, BREAK).map(|_| text.len());
            };
            let mut class = classes[usize::from(byte)];
            if class > BREAK {
                class = match class {
                    QUOTE => return advance(&tables.steps, runs, BREAK).map(|_| text.len() - rest.len() - 1),
                    SYMBOL | LEADING if may_be_letter_or_digit(rest.as_slice().first().map_or(END, |&next| classes[usize::from(next)])) => {
                        return None;
                    }
                    SYMBOL | LEADING => BREAK,
                    _ => return None,
                };
            }
            runs = advance(&tables.steps, runs, class)?;
        }
    }
}

/// Whether a byte of this class may be a letter or digit: a symbol before it reads as a
/// letter (`sh!t`). A byte beyond ASCII or an escape might be a letter.
fn may_be_letter_or_digit(class: u8) -> bool {
    usize::from(class) < CLASSES || matches!(class, DIGIT | BEYOND | ESCAPE)
}

/// Six runs of breaks: [`plain`]'s state before the text.
const ONLY_BREAKS: u32 = BREAK as u32 * 0b00001_00001_00001_00001_00001_00001;

/// One class further in [`plain`]: the runs it leaves, or `None` if a closer look is
/// needed.
#[inline(always)]
fn advance(steps: &Steps, runs: u32, class: u8) -> Option<u32> {
    let nth = |runs: u32, n: u32| runs >> (5 * n) & 31;
    if u32::from(class) == nth(runs, 0) {
        return Some(runs);
    }
    let runs = runs << 5 | u32::from(class);
    let third = nth(runs, 3) == u32::from(BREAK);
    if steps.get(third, runs as usize) {
        return None;
    }
    let spelled = class == BREAK && nth(runs, 2) == u32::from(BREAK) && nth(runs, 4) == u32::from(BREAK);
    (!spelled).then_some(runs)
}

#[cfg(test)]
mod tests {
    use crate::lexicon::{Lexicon, Severity};
    use crate::strings::Scan;
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
        let verdict = lexicon.quick().offends(text, &mut |word| {
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
        for text in ["fag", "a fag", "so it is a fag", "well, cunts"] {
            assert_eq!(quick(&lexicon, text).0, Some(true), "a pattern opening a word after others: {text:?}");
        }
    }

    #[test]
    fn what_it_cannot_vouch_for_sends_the_message_to_the_full_reading() {
        let lexicon = lexicon();
        for text in ["sh1t", "$hit", "sh!t", "a5s", "f u c k", "fück", "f\u{200B}uck", "4 5 5", "so a b c", "hi!é"] {
            assert_eq!(quick(&lexicon, text), (None, vec![]), "{text:?}");
        }
    }

    /// Where the fast path answers, it answers as the full reading does, over 300,000
    /// random strings: half drawn from letters the list opens with, disguises and
    /// separators; half plain words, listed ones among them, and random letters, parted
    /// by spaces and commas (which the first pass decides, or passes on when a word needs
    /// a closer look). Read where it lies in
    /// JSON, a string gets the same answer, or none when it holds an escape; a clean one
    /// ends at its closing quote.
    #[test]
    fn never_clean_where_the_full_reading_finds_a_match() {
        let lexicon = lexicon();
        let disguises: Vec<char> = "fuckshitbasdonqxzvr egjlmpwy FUCK  1!$@5.-'é(|+\"\\".chars().collect();
        let letters: Vec<char> = "fuckshitbasdonqxzvregjlmpwyFUCK".chars().collect();
        let words = ["fag", "Cunts", "shit", "ass", "as", "assassin", "class", "Scunthorpe", "fuvck", "fu", "a", "I", "ok", "shiitake", "quxx"];
        let separators = [" ", ", ", "  ", "\n"];
        let mut state = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state % n as u64) as usize
        };
        let (mut fast, mut flagged, mut escaped, mut first_pass, mut plain_flagged) = (0, 0, 0, 0, 0);
        for i in 0..300_000 {
            let text: String = if i % 2 == 0 {
                (0..next(14)).map(|_| disguises[next(disguises.len())]).collect()
            } else {
                let mut text = String::new();
                for n in 0..1 + next(5) {
                    if n > 0 {
                        text.push_str(separators[next(separators.len())]);
                    }
                    match next(3) {
                        0 => text.push_str(words[next(words.len())]),
                        _ => text.extend((0..1 + next(6)).map(|_| letters[next(letters.len())])),
                    }
                }
                text
            };
            let hit = found(&lexicon, &text);
            flagged += usize::from(hit);
            if i % 2 == 1 {
                first_pass += usize::from(super::plain::<false>(&lexicon.quick().tables, text.as_bytes()).is_some());
                plain_flagged += usize::from(hit);
            }
            let verdict = quick(&lexicon, &text).0;
            if let Some(verdict) = verdict {
                fast += 1;
                assert_eq!(verdict, hit, "the fast path on {text:?}");
            }
            let json = format!("[{},1]", serde_json::to_string(&text).unwrap());
            let in_place = lexicon.quick().offends_in_json(&json, 2, &mut |word| found(&lexicon, word));
            // `["` and `",1]` around the text: anything more is an escape, which the
            // scan does not read past.
            if json.len() != text.len() + 6 {
                escaped += 1;
                assert!(in_place == Scan::Unsure || in_place == Scan::Offends && hit, "in place, {json}: {in_place:?}");
                continue;
            }
            let expected = match verdict {
                Some(false) => Scan::Clean(2 + text.len()),
                Some(true) => Scan::Offends,
                None => Scan::Unsure,
            };
            assert_eq!(in_place, expected, "in place, {json}");
        }
        assert!(fast > 100_000 && flagged > 20_000 && escaped > 50_000, "all paths exercised: {fast} fast, {flagged} flagged, {escaped} escaped");
        assert!(first_pass > 20_000 && plain_flagged > 20_000, "the first pass, over letters: {first_pass} vouched for, {plain_flagged} flagged");
    }
}
