//! Splits a message into the words the list is matched against, as runs of readings:
//! `fuuuck` is the runs `f`, `u`×3, `c`, `k`; `$h!t` reads `s h i t`; letters spelled out
//! one by one (`f u c k`, `b.i.t.c.h`) also make a word. Each run remembers where in the
//! text it lies, so a match can be masked. Matching is [`crate::lexicon`]'s.

use crate::glyph::{Glyph, Letters, glyph};

/// One reading, repeated `count` times in a row, at `start..end` in the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Run {
    pub(crate) letters: Letters,
    pub(crate) count: u16,
    pub(crate) start: usize,
    pub(crate) end: usize,
}

/// A word's runs, and whether it holds a true letter: a word of digits and symbols alone
/// (`455`, `$5`) is a number or punctuation, not a disguise.
#[derive(Default)]
struct Word {
    runs: Vec<Run>,
    glyphs: usize,
    has_letter: bool,
}

impl Word {
    fn push(&mut self, letters: Letters, start: usize, end: usize, is_letter: bool) {
        self.glyphs += 1;
        self.has_letter |= is_letter;
        match self.runs.last_mut() {
            Some(run) if run.letters == letters && letters != 0 => {
                run.count = run.count.saturating_add(1);
                run.end = end;
            }
            _ => self.runs.push(Run { letters, count: 1, start, end }),
        }
    }

    fn clear(&mut self) {
        self.runs.clear();
        self.glyphs = 0;
        self.has_letter = false;
    }
}

/// The scanner, kept across messages so its buffers are allocated once.
#[derive(Default)]
pub(crate) struct Words {
    word: Word,
    /// Single letters spelled out with one separator between each, so far.
    spaced: Word,
    /// Where a letter alone must start to go on spelling out a word: one glyph (the
    /// separator) past the last one.
    spaced_next: usize,
    /// Whether this pass reads symbols as separators, and whether the last read one as a
    /// letter.
    symbols_separate: bool,
    symbol_read: bool,
}

impl Words {
    /// Calls `each` with the runs of every word of `text` that holds a letter, and of
    /// every spelled-out sequence of three or more single letters, until it returns true.
    /// Returns whether it did. A symbol inside a word is read both ways: as the letter it
    /// looks like (`sh!t`) and, in a second pass made only then, as a separator
    /// (`f!u!c!k`, letters spelled out).
    pub(crate) fn any(&mut self, text: &str, each: &mut dyn FnMut(&[Run]) -> bool) -> bool {
        self.symbols_separate = false;
        self.symbol_read = false;
        if self.pass(text, each) {
            return true;
        }
        if !self.symbol_read {
            return false;
        }
        self.symbols_separate = true;
        self.pass(text, each)
    }

    /// One reading of `text`.
    fn pass(&mut self, text: &str, each: &mut dyn FnMut(&[Run]) -> bool) -> bool {
        self.word.clear();
        self.spaced.clear();
        self.spaced_next = 0;
        let bytes = text.as_bytes();
        // The glyph at byte `at` and its length; ASCII, nearly every byte of a message, is
        // one table lookup.
        let glyph_at = |at: usize| match bytes.get(at) {
            None => None,
            Some(&b) if b.is_ascii() => Some((glyph(b as char), 1)),
            Some(_) => text[at..].chars().next().map(|c| (glyph(c), c.len_utf8())),
        };
        let mut at = 0;
        let mut next = glyph_at(at);
        let (mut index, mut word_start) = (0, 0);
        while let Some((g, len)) = next {
            let start = at;
            at += len;
            next = glyph_at(at);
            if g == Glyph::Invisible {
                continue;
            }
            // A symbol looks past invisible glyphs to the next visible one.
            while let Some((Glyph::Invisible, skip)) = next {
                at += skip;
                next = glyph_at(at);
            }
            match self.reading(g, next.map(|(g, _)| g)) {
                Some((letters, is_letter)) => {
                    if self.word.glyphs == 0 {
                        word_start = index;
                    }
                    self.word.push(letters, start, start + len, is_letter);
                }
                None if self.word.glyphs > 0 && self.end_word(word_start, index, each) => return true,
                None => {}
            }
            index += 1;
        }
        (self.word.glyphs > 0 && self.end_word(word_start, index, each)) || self.flush_spaced(each)
    }

    /// Offers the word just ended (at glyph `end`; it began at glyph `start`), or keeps
    /// it as a spelled-out letter.
    fn end_word(&mut self, start: usize, end: usize, each: &mut dyn FnMut(&[Run]) -> bool) -> bool {
        let hit = if self.word.glyphs == 1 {
            // One letter alone: part of a spelled-out word if a single separator parts
            // it from the last one.
            let hit = start != self.spaced_next && self.flush_spaced(each);
            let run = self.word.runs[0];
            self.spaced.push(run.letters, run.start, run.end, self.word.has_letter);
            self.spaced_next = end + 1;
            hit
        } else {
            self.flush_spaced(each) || (self.word.has_letter && each(&self.word.runs))
        };
        self.word.clear();
        hit
    }

    /// Offers the spelled-out letters so far as a word, and starts afresh.
    fn flush_spaced(&mut self, each: &mut dyn FnMut(&[Run]) -> bool) -> bool {
        let hit = self.spaced.glyphs >= 3 && self.spaced.has_letter && each(&self.spaced.runs);
        self.spaced.clear();
        hit
    }

    /// What `g` reads as inside a word, and whether it is a true letter; `None` where a
    /// word breaks. A symbol is a letter only between letters or digits (`sh!t`), or
    /// before one if it may lead (`$hit`, `@ss`).
    #[inline]
    fn reading(&mut self, g: Glyph, next: Option<Glyph>) -> Option<(Letters, bool)> {
        match g {
            Glyph::Letter(letters) => Some((letters, true)),
            Glyph::Digit(letters) => Some((letters, false)),
            Glyph::Symbol { .. } if self.symbols_separate => None,
            Glyph::Symbol { letters, leads } => {
                let after = matches!(next, Some(Glyph::Letter(_) | Glyph::Digit(_)));
                let read = after && (self.word.glyphs > 0 || leads);
                self.symbol_read |= read;
                read.then_some((letters, false))
            }
            Glyph::Invisible | Glyph::Break => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::glyph::letter;

    /// Each word as its readings, a letter per run (the first of a set), `×n` for a repeat.
    fn words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        Words::default().any(text, &mut |runs| {
            let spelled = runs.iter().map(|r| {
                let c = if r.letters == 0 { '_' } else { (b'a' + r.letters.trailing_zeros() as u8) as char };
                if r.count > 1 { format!("{c}×{}", r.count) } else { c.to_string() }
            });
            out.push(spelled.collect::<String>());
            false
        });
        out
    }

    #[test]
    fn words_read_through_disguises() {
        assert_eq!(words("Hello, wörld!"), ["hel×2o", "world"]);
        assert_eq!(words("fuuuuck"), ["fu×4ck"]);
        assert_eq!(words("$h!t"), ["shit"]);
        assert_eq!(words("sh!t!!!"), ["shit", "sh"], "a trailing ! is punctuation (the second pass reads the inner one as one too)");
        assert_eq!(words("(ass)"), ["as×2"], "a bracket around a word is not a c");
        assert_eq!(words("@ss"), ["as×2", "s×2"]);
        assert_eq!(words("f\u{200B}uck"), ["fuck"], "zero-width space read past");
        assert_eq!(words("2nd"), ["_nd"]);
        assert_eq!(words("455 $5 12"), Vec::<String>::new(), "numbers are not words");
    }

    #[test]
    fn spelled_out_letters_make_a_word() {
        assert_eq!(words("f u c k"), ["fuck"]);
        assert_eq!(words("b.i.t.c.h"), ["bitch"]);
        assert_eq!(words("a s s hat"), ["as×2", "hat"]);
        assert_eq!(words("i  am"), ["am"], "two separators part the letters");
        assert_eq!(words("a b"), Vec::<String>::new(), "two letters are not a word");
        assert_eq!(words("f!u!c!k"), ["fiuicik", "fuck"], "symbols read as letters, then as separators");
        assert_eq!(words("sh!t happens"), ["shit", "hap×2ens", "sh", "hap×2ens"]);
        assert_eq!(words("hello! there"), ["hel×2o", "there"], "a second pass only for a symbol read as a letter");
    }

    #[test]
    fn runs_know_where_they_lie() {
        let mut seen = Vec::new();
        Words::default().any("oh fuсk", &mut |runs| {
            seen.push(runs.to_vec());
            false
        });
        let fuck = &seen[1];
        assert_eq!(fuck[0], Run { letters: letter(b'f'), count: 1, start: 3, end: 4 });
        assert_eq!(fuck[2].start..fuck[3].end, 5..8, "the Cyrillic с is two bytes");
    }
}
