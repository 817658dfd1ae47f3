//! Files no reader should trust: not PDFs, truncated, encrypted, scanned
//! (no text layer), oversized, nested past any stack, and extractors that
//! panic or never finish. Each gives its own clear error; none crashes or
//! hangs the caller.

use std::sync::Arc;
use std::time::Duration;

use hypatia_pdf::{ChunkSize, Limits, PdfError, RawPage, TextExtractor, is_pdf, read_pdf, read_pdf_with};
use hypatia_testkit::pdf::{one_page_pdf, paper_pdf, text_pdf};

fn one_page(content: &str, trailer: &str, extra: &[String]) -> Vec<u8> {
    one_page_pdf(content, trailer, extra)
}

fn text_page(lines: &[&str]) -> Vec<u8> {
    text_pdf(lines)
}

#[test]
fn a_hand_made_pdf_is_read_as_a_paper() {
    let bytes = text_page(&[
        "Engines of analysis weave algebraic patterns as looms weave flowers.",
        "The engine computes Bernoulli numbers without error, as we show here.",
    ]);
    let paper = read_pdf(&bytes, &Limits::default()).expect("a valid PDF");
    assert_eq!(paper.pages.len(), 1);
    assert!(paper.pages[0].contains("Bernoulli numbers"), "{:?}", paper.pages);
    assert_eq!(paper.passages.len(), 1);
    assert_eq!(paper.passages[0].location.section, "Body");
    assert_eq!(paper.passages[0].location.page, 1);
}

#[test]
fn a_paper_in_miniature_has_its_sections_pages_references_and_no_running_header() {
    let bytes = paper_pdf(&[
        (
            "1 Introduction",
            &["Analytical engines weave algebraic patterns as a loom weaves flowers and leaves."],
        ),
        (
            "2 Results",
            &["The engine computed the Bernoulli numbers without a single error in the table."],
        ),
        (
            "3 Discussion",
            &["A general purpose machine follows: any process of symbols can be mechanised."],
        ),
        (
            "References",
            &["[1] C. Babbage. 1864. Passages from the Life of a Philosopher. doi:10.1000/passages"],
        ),
    ]);
    let paper = read_pdf(&bytes, &Limits::default()).expect("read");
    assert_eq!(paper.pages.len(), 4);
    let places: Vec<(&str, u32)> = paper
        .passages
        .iter()
        .map(|p| (p.location.section.as_str(), p.location.page))
        .collect();
    assert_eq!(places, [("Introduction", 1), ("Results", 2), ("Discussion", 3)]);
    assert!(
        paper
            .pages
            .iter()
            .all(|page| !page.contains("Proceedings of the Workshop")),
        "{:?}",
        paper.pages
    );
    assert_eq!(paper.references.len(), 1);
    assert_eq!(paper.references[0].doi.as_deref(), Some("10.1000/passages"));
    assert_eq!(paper.references[0].page, 4);
}

#[test]
fn not_a_pdf_and_a_truncated_one_are_refused_by_name() {
    assert!(matches!(read_pdf(b"hello", &Limits::default()), Err(PdfError::NotPdf)));
    assert!(!is_pdf(b""));
    let whole = text_page(&["Some text that is long enough to be a page of a paper, more or less."]);
    for cut in [12, whole.len() / 3, whole.len() / 2] {
        let error = read_pdf(&whole[..cut], &Limits::default()).expect_err("a truncated PDF");
        assert!(
            matches!(error, PdfError::Unreadable(_) | PdfError::NoTextLayer { .. }),
            "cut at {cut}: {error:?}"
        );
    }
}

#[test]
fn an_encrypted_pdf_asks_for_an_unprotected_copy() {
    let encrypt = format!(
        "<< /Filter /Standard /V 1 /R 2 /Length 40 /P -44 /O <{}> /U <{}> >>",
        "11".repeat(32),
        "22".repeat(32)
    );
    let bytes = one_page(
        "BT /F1 11 Tf 72 720 Td (secret) Tj ET",
        "/Encrypt 6 0 R /ID [<0123456789abcdef0123456789abcdef> <0123456789abcdef0123456789abcdef>]",
        &[encrypt],
    );
    let error = read_pdf(&bytes, &Limits::default()).expect_err("encrypted");
    assert_eq!(error, PdfError::Encrypted, "{error}");
    assert!(error.to_string().contains("password"));
}

#[test]
fn a_scan_without_a_text_layer_says_it_needs_ocr() {
    let bytes = one_page("0 0 1 rg 72 72 468 648 re f", "", &[]);
    let error = read_pdf(&bytes, &Limits::default()).expect_err("no text");
    assert!(matches!(error, PdfError::NoTextLayer { pages: 1, .. }), "{error:?}");
    assert!(error.to_string().contains("OCR"));
}

#[test]
fn size_and_page_limits_hold() {
    let bytes = text_page(&["A page of text that is long enough to count as a page of a paper."]);
    let small = Limits {
        max_bytes: 100,
        ..Limits::default()
    };
    assert!(matches!(
        read_pdf(&bytes, &small),
        Err(PdfError::TooLarge { limit: 100, .. })
    ));
    let no_pages = Limits {
        max_pages: 0,
        ..Limits::default()
    };
    assert!(matches!(
        read_pdf(&bytes, &no_pages),
        Err(PdfError::TooManyPages { pages: 1, limit: 0 })
    ));
}

#[test]
fn objects_nested_past_any_stack_do_not_crash() {
    let depth = 200_000;
    let nested = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let bytes = one_page("BT /F1 11 Tf 72 720 Td (x) Tj ET", &format!("/Deep {nested}"), &[]);
    // Whatever the parser makes of it, it is an answer, not an abort.
    let _ = read_pdf(&bytes, &Limits::default());
    let dict = format!("{}{}", "<< /A ".repeat(depth), ">> ".repeat(depth));
    let bytes = one_page("BT /F1 11 Tf 72 720 Td (x) Tj ET", "", &[dict]);
    let _ = read_pdf(&bytes, &Limits::default());
}

struct Panics;
impl TextExtractor for Panics {
    fn name(&self) -> &'static str {
        "panics"
    }
    fn extract(&self, _: &[u8], _: &Limits) -> Result<Vec<RawPage>, PdfError> {
        panic!("index out of bounds in a font table")
    }
}

struct NeverFinishes;
impl TextExtractor for NeverFinishes {
    fn name(&self) -> &'static str {
        "never finishes"
    }
    fn extract(&self, _: &[u8], _: &Limits) -> Result<Vec<RawPage>, PdfError> {
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    }
}

#[test]
fn an_extractor_that_panics_or_hangs_is_an_error_not_a_crash_or_a_hang() {
    let bytes = text_page(&["Text."]);
    let error = read_pdf_with(Arc::new(Panics), &bytes, &Limits::default(), ChunkSize::default()).expect_err("panics");
    assert_eq!(
        error,
        PdfError::ExtractorPanicked("index out of bounds in a font table".to_owned())
    );
    let limits = Limits {
        timeout: Duration::from_millis(200),
        ..Limits::default()
    };
    let error = read_pdf_with(Arc::new(NeverFinishes), &bytes, &limits, ChunkSize::default()).expect_err("hangs");
    assert_eq!(error, PdfError::TimedOut(Duration::from_millis(200)));
}

#[test]
fn a_pdf_whose_cross_reference_table_is_off_is_read_from_its_objects() {
    // Bytes inserted after the header (a mangled download, a hand edit): every offset is wrong.
    let mut bytes = text_page(&["Engines of analysis weave algebraic patterns as looms weave flowers and leaves."]);
    bytes.splice(9..9, b"      ".iter().copied());
    let paper = read_pdf(&bytes, &Limits::default()).expect("the objects are all there");
    assert!(paper.pages[0].contains("algebraic patterns"), "{:?}", paper.pages);
    // No cross-reference table at all.
    let whole = text_page(&["Engines of analysis weave algebraic patterns as looms weave flowers and leaves."]);
    let cut = whole.windows(4).position(|w| w == b"xref").expect("xref");
    let paper = read_pdf(&whole[..cut], &Limits::default()).expect("read without xref");
    assert!(paper.pages[0].contains("looms weave"));
}

#[test]
fn a_pdf_that_once_panicked_the_extractor_is_an_error() {
    // Found by tests/mutations.rs: pdf-extract panics on a missing object reference.
    let bytes = std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/extractor-panics.pdf")).expect("read");
    let error = read_pdf(&bytes, &Limits::default()).expect_err("refused");
    assert!(
        matches!(error, PdfError::ExtractorPanicked(_) | PdfError::Unreadable(_)),
        "{error:?}"
    );
}

#[test]
fn a_decompression_bomb_is_refused_before_it_is_inflated() {
    use std::io::Write;
    // 20 MB of page content deflated to about 20 KB.
    let mut encoder = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::best());
    let line = b"BT /F1 11 Tf 72 720 Td (Engines weave algebraic patterns.) Tj ET\n";
    for _ in 0..(20 * 1024 * 1024 / line.len()) {
        encoder.write_all(line).expect("deflate");
    }
    let deflated = encoder.finish().expect("deflate");
    let mut bytes = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    let mut object = |bytes: &mut Vec<u8>, body: &[u8]| {
        offsets.push(bytes.len());
        bytes.extend(format!("{} 0 obj\n", offsets.len()).as_bytes());
        bytes.extend(body);
        bytes.extend(b"\nendobj\n");
    };
    object(&mut bytes, b"<< /Type /Catalog /Pages 2 0 R >>");
    object(&mut bytes, b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>");
    object(
        &mut bytes,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>",
    );
    let mut stream = format!("<< /Length {} /Filter /FlateDecode >>\nstream\n", deflated.len()).into_bytes();
    stream.extend(&deflated);
    stream.extend(b"\nendstream");
    object(&mut bytes, &stream);
    object(&mut bytes, b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
    let xref = bytes.len();
    bytes.extend(b"xref\n0 6\n0000000000 65535 f \n");
    for offset in &offsets {
        bytes.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    bytes.extend(format!("trailer\n<< /Size 6 /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n").as_bytes());
    assert!(bytes.len() < 100_000, "{} bytes", bytes.len());

    let limits = Limits {
        max_inflated_bytes: 10 * 1024 * 1024,
        ..Limits::default()
    };
    let error = read_pdf(&bytes, &limits).expect_err("a bomb");
    assert_eq!(
        error,
        PdfError::InflatesTooLarge {
            limit: 10 * 1024 * 1024
        }
    );
    assert!(error.to_string().contains("decompression bomb"));
    // Under a limit it fits, the same file is read.
    let roomy = Limits {
        max_inflated_bytes: 64 * 1024 * 1024,
        ..Limits::default()
    };
    let paper = read_pdf(&bytes, &roomy).expect("within the limit");
    assert!(paper.pages[0].contains("Engines weave algebraic patterns"));
}
