//! The PDF reader against mutated PDFs grown from hand-made papers and a real one: byte flips,
//! truncations, deleted and repeated spans, splices, PDF tokens in odd places (huge lengths, broken
//! object references, deep nesting). The extractor may refuse a file, panic or run long (those are
//! contained and become errors); Hypatia's own code after it must never panic, and whatever it
//! returns must hold: every passage on a page that exists, at offsets inside that page, its text the
//! page's text there. Deterministic (fixed seed), so a failure reproduces.

use std::sync::Arc;
use std::time::Duration;

use hypatia_core::SplitMix64;
use hypatia_pdf::{ChunkSize, Limits, PdfError, PdfExtract, PdfPaper, read_pdf_with};
use hypatia_testkit::mutate::Mutations;
use hypatia_testkit::pdf::{paper_pdf, text_pdf};

const TOKENS: &[&[u8]] = &[
    b"<<",
    b">>",
    b"[",
    b"]",
    b"(",
    b")",
    b"\\",
    b" obj ",
    b"endobj",
    b"stream\n",
    b"endstream",
    b"/Length 99999999999",
    b"/Length -1",
    b" 0 R",
    b" 99999 0 R",
    b"xref\n",
    b"trailer",
    b"%%EOF",
    b"startxref\n0\n",
    b"/Filter /FlateDecode",
    b"/Type /Pages /Kids [1 0 R]",
    b"1e308",
    b"-0",
    b"\xFE\xFF",
    b"\0",
    b"Tj",
    b"TJ",
    b"Tf",
    b"Td",
    b"BT",
    b"ET",
    b"\xEF\xAC\x81",
];

const MUTATIONS: Mutations<'static> = Mutations {
    tokens: TOKENS,
    nestings: &[(b"[", b"]"), (b"<<", b">>"), (b"(", b")")],
    max_depth: 20_000,
    // The `%PDF-` header stays: without it the file is refused before the reader sees it.
    keep_prefix: 8,
};

fn mutate(rng: &mut SplitMix64, input: &[u8], other: &[u8]) -> Vec<u8> {
    MUTATIONS.mutate(rng, input, other)
}

/// What holds for any PDF the reader accepts.
fn check(paper: &PdfPaper, what: &str) {
    let pages: Vec<Vec<char>> = paper.pages.iter().map(|p| p.chars().collect()).collect();
    for passage in &paper.passages {
        let at = &passage.location;
        assert!(
            at.page >= 1 && at.page <= at.page_end && at.page_end as usize <= pages.len(),
            "{what}: {at:?}"
        );
        let first = &pages[at.page as usize - 1];
        assert!(at.start as usize <= first.len(), "{what}: {at:?}");
        let last = &pages[at.page_end as usize - 1];
        assert!(at.end as usize <= last.len(), "{what}: {at:?}");
        if at.page == at.page_end {
            assert!(at.start <= at.end, "{what}: {at:?}");
            let slice: String = first[at.start as usize..at.end as usize].iter().collect();
            assert_eq!(
                slice.split_whitespace().collect::<Vec<_>>().join(" "),
                passage.text,
                "{what}"
            );
        }
        assert!(!passage.text.trim().is_empty(), "{what}: an empty passage");
    }
    for reference in &paper.references {
        assert!(
            reference.page >= 1 && reference.page as usize <= pages.len(),
            "{what}: {reference:?}"
        );
    }
}

fn seeds() -> Vec<(String, Vec<u8>)> {
    let mut seeds = vec![
        (
            "paper".to_owned(),
            paper_pdf(&[
                (
                    "1 Introduction",
                    &[
                        "Analytical engines weave algebraic patterns as a loom weaves flowers.",
                        "It com-",
                        "putes.",
                    ],
                ),
                (
                    "2 Results",
                    &["The engine computed the Bernoulli numbers without a single error."],
                ),
                (
                    "References",
                    &["[1] C. Babbage. 1864. Passages from the Life of a Philosopher. doi:10.1000/passages"],
                ),
            ]),
        ),
        (
            "page".to_owned(),
            text_pdf(&["Abstract", "We study engines.", "1 Introduction", "Engines compute."]),
        ),
    ];
    // A real paper when this machine has ../shared (CI does).
    if let Some(path) = hypatia_testkit::shared_data("eval-data/pdfs/2304.02623v1.pdf") {
        seeds.push(("2304.02623v1".to_owned(), std::fs::read(path).expect("read")));
    }
    seeds
}

#[test]
fn no_mutation_of_a_pdf_makes_the_reader_panic_or_break_its_invariants() {
    let seeds = seeds();
    let limits = Limits {
        timeout: Duration::from_secs(20),
        ..Limits::default()
    };
    let mut rng = SplitMix64::new(0x5044_465f_6675_7a7a);
    let mut outcomes: std::collections::BTreeMap<&'static str, usize> = std::collections::BTreeMap::new();
    for (index, (name, bytes)) in seeds.iter().enumerate() {
        let other = &seeds[(index + 1) % seeds.len()].1;
        // Small seeds are cheap; the real paper takes longer to read, so fewer rounds.
        let rounds = if bytes.len() > 100_000 { 150 } else { 1500 };
        for round in 0..rounds {
            let mutated = mutate(&mut rng, bytes, other);
            let what = format!("{name} mutation {round} ({} bytes)", mutated.len());
            let result = std::panic::catch_unwind(|| {
                read_pdf_with(Arc::new(PdfExtract), &mutated, &limits, ChunkSize::default())
            });
            let result = result.unwrap_or_else(|_| panic!("{what}: Hypatia's own code panicked"));
            let outcome = match &result {
                Ok(paper) => {
                    check(paper, &what);
                    "read"
                }
                Err(PdfError::ExtractorPanicked(_)) => "extractor panicked (contained)",
                Err(PdfError::TimedOut(_)) => "timed out (contained)",
                Err(PdfError::NoTextLayer { .. }) => "no text layer",
                Err(PdfError::Unreadable(_)) => "unreadable",
                Err(other) => {
                    assert!(!other.to_string().is_empty());
                    "other refusal"
                }
            };
            *outcomes.entry(outcome).or_default() += 1;
        }
    }
    eprintln!("outcomes: {outcomes:?}");
    assert!(
        outcomes.get("read").copied().unwrap_or(0) > 0,
        "no mutation was still readable: {outcomes:?}"
    );
}
