//! Seeded mutations of test inputs, for the reader fuzz tests: byte flips, truncations, splices of
//! another input, deleted and repeated spans, format tokens in odd places, deep nesting and long runs.

use hypatia_core::SplitMix64;

/// What a format's mutations are made of.
pub struct Mutations<'a> {
    /// Bytes that mean something to the format, inserted anywhere.
    pub tokens: &'a [&'a [u8]],
    /// Opening and closing brackets nested deep: what recursive descent parsers overflow on.
    pub nestings: &'a [(&'a [u8], &'a [u8])],
    /// Nesting goes up to this depth.
    pub max_depth: usize,
    /// Truncation keeps at least this many bytes (a file's magic number, say).
    pub keep_prefix: usize,
}

impl Mutations<'_> {
    /// One to four mutations of `input`; `other` is spliced from.
    pub fn mutate(&self, rng: &mut SplitMix64, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut bytes = input.to_vec();
        for _ in 0..1 + rng.below(4) {
            let at = rng.below(bytes.len() + 1);
            match rng.below(8) {
                0 if !bytes.is_empty() => {
                    let i = rng.below(bytes.len());
                    bytes[i] ^= 1 << rng.below(8);
                }
                1 => bytes.truncate(at.max(self.keep_prefix)),
                2 if !self.tokens.is_empty() => {
                    let token = self.tokens[rng.below(self.tokens.len())];
                    bytes.splice(at..at, token.iter().copied());
                }
                3 if !other.is_empty() => {
                    let start = rng.below(other.len());
                    let end = (start + rng.below(400)).min(other.len());
                    bytes.splice(at..at, other[start..end].iter().copied());
                }
                4 => {
                    let end = (at + rng.below(64)).min(bytes.len());
                    bytes.drain(at..end);
                }
                5 => {
                    let end = (at + rng.below(32)).min(bytes.len());
                    let span = bytes[at..end].to_vec();
                    for _ in 0..rng.below(50) {
                        bytes.splice(at..at, span.iter().copied());
                    }
                }
                6 if !self.nestings.is_empty() => {
                    let (open, close) = self.nestings[rng.below(self.nestings.len())];
                    let depth = 1 + rng.below(self.max_depth);
                    let mut nested = open.repeat(depth);
                    nested.extend(close.repeat(depth));
                    bytes.splice(at..at, nested);
                }
                7 => {
                    let length = rng.below(200_000);
                    bytes.splice(at..at, std::iter::repeat_n(b'x', length));
                }
                _ => {}
            }
        }
        bytes
    }
}
