//! The word list and how a word is matched against it.
//!
//! A pattern is letters with an optional `*` at either end: `ass` matches the whole word
//! (or its plural: `asses`), `bitch*` also the start of a longer word (`bitchy`), `*shit*`
//! anywhere inside one (`bullshit`), `*fucker` the end of one. So `Scunthorpe`,
//! `classic`, `assassin` and `Dickens` pass while `motherfucker` does not. Matching reads
//! runs, not characters: a pattern's letter matches a run of that reading at least as
//! long as the pattern's own (`fuuuck` is `fuck`; `as` is not `ass`).
//!
//! Patterns are kept in two tries: one matched from a word's first letter (every
//! pattern) and one from each later letter (the patterns opening with `*`). A walk starts
//! only where the word's first runs open some pattern ([`Openings`]), so most letters cost
//! a table lookup and a clean word no allocation.

use std::collections::HashSet;
use std::ops::Range;

use serde::Deserialize;

use crate::glyph::{Glyph, Letters, glyph, letter};
use crate::quick::Quick;
use crate::words::Run;

/// How strong a word is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Severity {
    Mild,
    Moderate,
    Severe,
}

/// The built-in list: `severity pattern` per line, `#` for comments.
const BUILT_IN: &str = include_str!("words.txt");

/// Endings a whole-word pattern may take: the plural.
const PLURALS: [&[u8]; 2] = [b"s", b"es"];

/// The patterns at or above a threshold, and the words never flagged.
pub(crate) struct Lexicon {
    head: Trie,
    inner: Trie,
    /// The fast path's tables, from the tries' openings.
    quick: Quick,
    /// Whole words exempt from the list, lower case.
    allowed: HashSet<String>,
}

impl Lexicon {
    /// The built-in patterns of at least `threshold`, with `deny` added as severe and the
    /// words in `allow` exempt. Fails on a pattern that is not letters and `*`s.
    pub(crate) fn new(threshold: Severity, deny: &[String], allow: &[String]) -> Result<Lexicon, String> {
        let (mut head, mut inner) = (Trie::default(), Trie::default());
        for (n, line) in BUILT_IN.lines().enumerate() {
            let line = line.split('#').next().unwrap_or("").trim();
            let Some((severity, pattern)) = line.split_once(' ') else { continue };
            let severity = match severity {
                "mild" => Severity::Mild,
                "moderate" => Severity::Moderate,
                "severe" => Severity::Severe,
                other => return Err(format!("words.txt:{}: unknown severity {other:?}", n + 1)),
            };
            if severity >= threshold {
                add(&mut head, &mut inner, pattern.trim()).map_err(|e| format!("words.txt:{}: {e}", n + 1))?;
            }
        }
        for pattern in deny {
            add(&mut head, &mut inner, pattern.trim()).map_err(|e| format!("deny: {e}"))?;
        }
        let quick = Quick::new(&head.openings, &inner.openings);
        Ok(Lexicon { head, inner, quick, allowed: allow.iter().map(|word| word.trim().to_lowercase()).collect() })
    }

    /// The fast path's scanner; see [`Quick`].
    pub(crate) fn quick(&self) -> &Quick {
        &self.quick
    }

    /// Calls `found` with the byte range of every match in the word `runs` of `text`,
    /// until it returns true; returns whether it did. Nothing matches in an allowed word.
    pub(crate) fn find(&self, text: &str, runs: &[Run], found: &mut dyn FnMut(Range<usize>) -> bool) -> bool {
        let mut exempt = None;
        let mut hit = |span: Range<usize>| {
            let exempt = *exempt.get_or_insert_with(|| self.is_allowed(text, runs));
            !exempt && found(span)
        };
        (0..runs.len()).any(|start| {
            let trie = if start == 0 { &self.head } else { &self.inner };
            trie.may_open(runs, start) && trie.walk(0, runs, start, start, &mut hit)
        })
    }

    /// Whether the word that `runs` spell in `text` is allowed, read as its letters in
    /// lower case (`Shiitake` and `SHIITAKE` alike for `shiitake`; spelled-out letters
    /// without their separators).
    fn is_allowed(&self, text: &str, runs: &[Run]) -> bool {
        if self.allowed.is_empty() {
            return false;
        }
        let (Some(first), Some(last)) = (runs.first(), runs.last()) else { return false };
        let word: String = text[first.start..last.end].chars().filter(|c| c.is_alphanumeric()).flat_map(char::to_lowercase).collect();
        self.allowed.contains(&word)
    }
}

/// Adds `pattern` to the tries: every pattern to `head`, one opening with `*` to `inner`
/// as well.
fn add(head: &mut Trie, inner: &mut Trie, pattern: &str) -> Result<(), String> {
    let anywhere = pattern.starts_with('*');
    let open = pattern.len() > 1 && pattern.ends_with('*');
    let core = pattern.trim_matches('*');
    let mut runs: Vec<(u8, u16)> = Vec::new();
    for c in core.chars() {
        let letter = reading(c).ok_or_else(|| format!("{pattern:?}: only Latin letters and a `*` at either end"))?;
        match runs.last_mut() {
            Some((last, count)) if *last == letter => *count = count.saturating_add(1),
            _ => runs.push((letter, 1)),
        }
    }
    if core.chars().count() < 2 {
        return Err(format!("{pattern:?}: a pattern needs two letters at least"));
    }
    let end = if open { End::Open } else { End::Whole };
    head.insert(&runs, end);
    if anywhere {
        inner.insert(&runs, end);
    }
    Ok(())
}

/// The letter `c` is, for a pattern: one letter, no look-alike sets (`v` is just `v`).
fn reading(c: char) -> Option<u8> {
    if c.is_ascii_alphabetic() {
        return Some(c.to_ascii_lowercase() as u8);
    }
    match glyph(c) {
        Glyph::Letter(letters) if letters.count_ones() == 1 => Some(b'a' + letters.trailing_zeros() as u8),
        _ => None,
    }
}

/// Where a pattern ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// With the word, or its plural.
    Whole,
    /// Anywhere: the word may go on.
    Open,
}

#[derive(Default)]
struct Trie {
    nodes: Vec<Node>,
    /// How the patterns open: most runs begin none, and are passed over without a walk.
    openings: Openings,
}

#[derive(Default)]
struct Node {
    edges: Vec<Edge>,
    end: Option<End>,
}

/// A pattern's run: its letter as a set, and how many times in a row it is written.
struct Edge {
    letter: Letters,
    count: u16,
    to: usize,
}

impl Trie {
    fn insert(&mut self, runs: &[(u8, u16)], end: End) {
        if self.nodes.is_empty() {
            self.nodes.push(Node::default());
        }
        let letters: Vec<u8> = runs.iter().map(|&(c, _)| c - b'a').collect();
        self.openings.add(&letters);
        let mut at = 0;
        for &(c, count) in runs {
            let existing = self.nodes[at].edges.iter().find(|e| e.letter == letter(c) && e.count == count).map(|e| e.to);
            at = existing.unwrap_or_else(|| {
                let to = self.nodes.len();
                self.nodes.push(Node::default());
                self.nodes[at].edges.push(Edge { letter: letter(c), count, to });
                to
            });
        }
        // An open end covers a whole one.
        let node = &mut self.nodes[at];
        node.end = Some(if node.end == Some(End::Open) { End::Open } else { end });
    }

    /// Whether a pattern may begin at run `at`, by its first runs. Runs that share a
    /// reading (`1` and `i`) may be one run of a pattern: then a walk decides.
    #[inline]
    fn may_open(&self, runs: &[Run], at: usize) -> bool {
        let letters = |i: usize| runs.get(i).map_or(0, |r| r.letters);
        let (a, b, c) = (letters(at), letters(at + 1), letters(at + 2));
        a & self.openings.alone != 0 || a & b != 0 || b & c != 0 || self.openings.may_open(a, b, c)
    }

    /// Follows `runs` from `node` at run `at` (a match began at `start`), reporting every
    /// pattern that ends on the way.
    fn walk(&self, node: usize, runs: &[Run], start: usize, at: usize, found: &mut dyn FnMut(Range<usize>) -> bool) -> bool {
        let Some(node) = self.nodes.get(node) else { return false };
        let span = |end: usize| runs[start].start..runs[end - 1].end;
        let hit = match node.end {
            Some(End::Open) => found(span(at)),
            Some(End::Whole) => {
                let rest = &runs[at..];
                (rest.is_empty() || PLURALS.iter().any(|p| spells(rest, p))) && found(span(runs.len()))
            }
            None => false,
        };
        if hit {
            return true;
        }
        // One run of a pattern may be written as several runs of readings that all hold
        // its letter (`sh1it`: `1` reads i or l, then `i`); every such span is tried.
        node.edges.iter().any(|e| {
            let mut count = 0u16;
            runs[at..].iter().take_while(|r| r.letters & e.letter != 0).enumerate().any(|(i, r)| {
                count = count.saturating_add(r.count);
                count >= e.count && self.walk(e.to, runs, start, at + i + 1, found)
            })
        })
    }
}

/// Whether `runs` read as exactly the letters `word`, one each.
fn spells(runs: &[Run], word: &[u8]) -> bool {
    runs.len() == word.len() && runs.iter().zip(word).all(|(run, &c)| run.count == 1 && run.letters & letter(c) != 0)
}

/// How a trie's patterns open: enough to tell that none can begin at a run.
pub(crate) struct Openings {
    /// Patterns of two runs: the second letters after each first.
    pub(crate) pairs: [Letters; 26],
    /// Longer patterns: the third letters after each first and second (`26 × first +
    /// second`).
    pub(crate) triples: Box<[Letters; 26 * 26]>,
    /// Patterns of one run (`zz`).
    pub(crate) alone: Letters,
}

impl Default for Openings {
    fn default() -> Openings {
        Openings { pairs: [0; 26], triples: Box::new([0; 26 * 26]), alone: 0 }
    }
}

impl Openings {
    /// Notes a pattern's runs, as letter indexes.
    pub(crate) fn add(&mut self, runs: &[u8]) {
        match *runs {
            [a] => self.alone |= 1 << a,
            [a, b] => self.pairs[usize::from(a)] |= 1 << b,
            [a, b, c, ..] => self.triples[26 * usize::from(a) + usize::from(b)] |= 1 << c,
            [] => {}
        }
    }

    /// Whether a pattern may begin with the runs `a`, `b` and (if the word goes on) `c`.
    #[inline]
    pub(crate) fn may_open(&self, a: Letters, b: Letters, c: Letters) -> bool {
        let mut xs = a;
        while xs != 0 {
            let x = xs.trailing_zeros() as usize;
            xs &= xs - 1;
            if self.pairs[x] & b != 0 {
                return true;
            }
            let mut ys = if c == 0 { 0 } else { b };
            while ys != 0 {
                let y = ys.trailing_zeros() as usize;
                ys &= ys - 1;
                if self.triples[26 * x + y] & c != 0 {
                    return true;
                }
            }
        }
        false
    }
}
