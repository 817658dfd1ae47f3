//! Every reader against thousands of mutated inputs grown from the test fixtures: byte flips,
//! truncations, splices of one file into another, repeated and deleted spans, and the structures
//! that break recursive parsers (deep nesting, macro loops, huge fields). A reader may refuse a file
//! but must not panic or abort (a hang would keep the test from finishing). Deterministic (a fixed seed), so a failure reproduces; the
//! inputs that once crashed a reader are kept as cases below.

use std::path::{Path, PathBuf};

use hypatia_core::{SourceFormat, SplitMix64};
use hypatia_testkit::mutate::Mutations;

/// Mutations per fixture and format: a few seconds in all on a debug build.
const ROUNDS: usize = 300;

fn fixtures() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/data");
    let mut files: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .expect("tests/data")
        .map(|entry| entry.expect("an entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes = std::fs::read(&path).expect("a fixture");
            (path, bytes)
        })
        .collect();
    files.sort();
    assert!(files.len() >= 8, "the fixtures: {files:?}");
    files
}

/// Bytes that mean something to one of the formats.
const TOKENS: &[&[u8]] = &[
    b"{",
    b"}",
    b"[",
    b"]",
    b"\"",
    b"\\",
    b"@",
    b"@string{",
    b"#",
    b",",
    b"=",
    b"\n",
    b"\r\n",
    b"TY  - ",
    b"ER  - ",
    b"\n\n",
    b"\":",
    b"null",
    b"-1e999",
    b"\xC3\x28",
    b"\xF0\x9F\x92",
    b"\0",
    b"%",
    b"{\\\"o}",
    b"\t",
];

const MUTATIONS: Mutations<'static> = Mutations {
    tokens: TOKENS,
    nestings: &[(b"{", b"}"), (b"[", b"]")],
    max_depth: 5000,
    keep_prefix: 0,
};

fn mutate(rng: &mut SplitMix64, input: &[u8], other: &[u8]) -> Vec<u8> {
    MUTATIONS.mutate(rng, input, other)
}

/// Reads `bytes` as every format (and by detection), requiring an answer, not a panic or a hang.
fn read_every_way(name: &str, bytes: &[u8]) {
    let path = Path::new(name);
    let formats = [
        None,
        Some(SourceFormat::Bibtex),
        Some(SourceFormat::Ris),
        Some(SourceFormat::Csljson),
        Some(SourceFormat::Jsonl),
        Some(SourceFormat::Beir),
        Some(SourceFormat::Text),
    ];
    for format in formats {
        let result = std::panic::catch_unwind(|| hypatia_ingest::parse_bytes(path, bytes, format));
        assert!(
            result.is_ok(),
            "reading {name} as {format:?} panicked on {} bytes: {:?}",
            bytes.len(),
            String::from_utf8_lossy(&bytes[..bytes.len().min(300)])
        );
    }
}

#[test]
fn no_mutation_of_a_fixture_crashes_a_reader() {
    let files = fixtures();
    let mut rng = SplitMix64::new(0x0048_7970_6174_6961);
    for (index, (path, bytes)) in files.iter().enumerate() {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let other = &files[(index + 1) % files.len()].1;
        for _ in 0..ROUNDS {
            let mutated = mutate(&mut rng, bytes, other);
            read_every_way(&name, &mutated);
        }
    }
}

#[test]
fn inputs_that_once_crashed_a_reader_are_refused_cleanly() {
    let cases: &[(&str, &[u8])] = &[
        // @string macros that refer to each other: the biblatex crate recursed until the stack overflowed.
        (
            "loop.bib",
            b"@string{a = b}\n@string{b = a}\n@article{k, title = {T}, journal = a}\n",
        ),
        ("self.bib", b"@string(self = \"x\" # SELF)\n@article{k, title = self}\n"),
    ];
    for (name, bytes) in cases {
        read_every_way(name, bytes);
        let error = hypatia_ingest::parse_bytes(Path::new(name), bytes, Some(SourceFormat::Bibtex))
            .expect_err("a macro loop is refused");
        assert!(error.to_string().contains("loop"), "{error}");
    }
}
