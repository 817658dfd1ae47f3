//! The extractor: PDF bytes in, each page's lines (with their font size) out.
//! Behind a trait so another extractor can be measured and swapped in.

use pdf_extract::{Document, MediaBox, Object, OutputDev, OutputError, Transform};

use crate::{Limits, PdfError};

/// One line of a page as the extractor laid it out.
#[derive(Debug, Clone, PartialEq)]
pub struct RawLine {
    pub text: String,
    /// The largest glyph size on the line, in points: headings and titles
    /// are set larger than body text.
    pub size: f32,
    /// A blank line came before this one: a paragraph or block break.
    pub after_gap: bool,
}

/// One page as extracted; `failed` when the page itself could not be read.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct RawPage {
    pub lines: Vec<RawLine>,
    pub failed: Option<String>,
}

/// Turns a PDF into pages of lines in reading order.
pub trait TextExtractor: Send + Sync {
    /// A name recorded with every document it reads.
    fn name(&self) -> &'static str;
    /// Reads `bytes`, refusing what would take more than `limits` allow.
    fn extract(&self, bytes: &[u8], limits: &Limits) -> Result<Vec<RawPage>, PdfError>;
}

/// `pdf-extract` (over `lopdf`): chosen by measurement against poppler's
/// `pdftotext`, PyMuPDF and `pdf_oxide` (BENCHMARKS.md, "PDF extraction").
#[derive(Debug, Clone, Copy, Default)]
pub struct PdfExtract;

impl TextExtractor for PdfExtract {
    fn name(&self) -> &'static str {
        "pdf-extract 0.12"
    }

    fn extract(&self, bytes: &[u8], limits: &Limits) -> Result<Vec<RawPage>, PdfError> {
        let mut document = match Document::load_mem(bytes) {
            Ok(document) => document,
            // A broken cross-reference table: read the file from its objects, as poppler does.
            Err(error) => crate::repair::rebuild_xref(bytes)
                .and_then(|repaired| Document::load_mem(&repaired).ok())
                .ok_or_else(|| PdfError::Unreadable(error.to_string()))?,
        };
        if document.is_encrypted() {
            // Many PDFs are "encrypted" with an empty user password only to set
            // permissions; those open. The rest need a password we do not have.
            document.decrypt("").map_err(|_| PdfError::Encrypted)?;
        }
        check_inflated_size(&document, limits.max_inflated_bytes)?;
        let page_numbers: Vec<u32> = document.get_pages().keys().copied().collect();
        let mut pages = Vec::with_capacity(page_numbers.len());
        for number in page_numbers {
            let mut lines = LineCollector::default();
            let result = pdf_extract::output_doc_page(&document, &mut lines, number);
            let mut page = lines.finish();
            if let Err(error) = result {
                page.failed = Some(describe(&error));
            }
            pages.push(page);
        }
        Ok(pages)
    }
}

/// Inflates, without keeping, every deflated stream the reader would decode (images are never
/// decoded, so they are not counted), and refuses the file once the total passes `limit`: a
/// decompression bomb is refused before it is expanded in memory.
fn check_inflated_size(document: &Document, limit: u64) -> Result<(), PdfError> {
    use std::io::Read;
    let mut total: u64 = 0;
    for object in document.objects.values() {
        let Object::Stream(stream) = object else { continue };
        let is_image = stream.dict.get(b"Subtype").ok().and_then(|s| s.as_name().ok()) == Some(b"Image".as_slice());
        if is_image || !deflated(&stream.dict) {
            continue;
        }
        let budget = limit.saturating_sub(total).saturating_add(1);
        let mut decoder = flate2::read::ZlibDecoder::new(stream.content.as_slice()).take(budget);
        // A stream that is not valid deflate counts for what inflated before the fault.
        let inflated = std::io::copy(&mut decoder, &mut std::io::sink()).unwrap_or(0);
        total = total.saturating_add(inflated);
        if total > limit {
            return Err(PdfError::InflatesTooLarge { limit });
        }
    }
    Ok(())
}

fn deflated(dict: &pdf_extract::Dictionary) -> bool {
    match dict.get(b"Filter") {
        Ok(Object::Name(name)) => name.as_slice() == b"FlateDecode",
        Ok(Object::Array(filters)) => filters
            .iter()
            .any(|f| matches!(f, Object::Name(name) if name.as_slice() == b"FlateDecode")),
        _ => false,
    }
}

fn describe(error: &OutputError) -> String {
    match error {
        OutputError::FormatError(e) => e.to_string(),
        OutputError::IoError(e) => e.to_string(),
        OutputError::PdfError(e) => e.to_string(),
    }
}

/// Lays glyphs out into lines the way pdf-extract's plain-text output does
/// (a new line when the baseline moves, a space when the pen jumps), keeping
/// each line's font size.
#[derive(Default)]
struct LineCollector {
    page_height: f64,
    lines: Vec<RawLine>,
    current: String,
    current_size: f64,
    gap_before_current: bool,
    first_char_of_word: bool,
    last_x_end: f64,
    last_y: f64,
}

impl LineCollector {
    fn break_line(&mut self, gap: bool) {
        let text = std::mem::take(&mut self.current);
        if !text.trim().is_empty() {
            self.lines.push(RawLine {
                text,
                size: self.current_size as f32,
                after_gap: self.gap_before_current,
            });
            self.gap_before_current = false;
        }
        self.gap_before_current |= gap;
        self.current_size = 0.0;
    }

    fn finish(mut self) -> RawPage {
        self.break_line(false);
        RawPage {
            lines: self.lines,
            failed: None,
        }
    }
}

impl OutputDev for LineCollector {
    fn begin_page(
        &mut self,
        _page: u32,
        media_box: &MediaBox,
        _art_box: Option<(f64, f64, f64, f64)>,
    ) -> Result<(), OutputError> {
        self.page_height = media_box.ury - media_box.lly;
        Ok(())
    }

    fn end_page(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn output_character(
        &mut self,
        trm: &Transform,
        width: f64,
        _spacing: f64,
        font_size: f64,
        text: &str,
    ) -> Result<(), OutputError> {
        // The text matrix flipped to top-down page space.
        let (x, y) = (trm.m31, self.page_height - trm.m32);
        let scaled_x = font_size * trm.m11 + font_size * trm.m21;
        let scaled_y = font_size * trm.m12 + font_size * trm.m22;
        let size = (scaled_x * scaled_y).abs().sqrt();
        if self.first_char_of_word {
            let moved = (y - self.last_y).abs();
            let far_down = moved > size * 1.5;
            let back_and_down = x < self.last_x_end && moved > size * 0.5;
            if far_down || back_and_down {
                // Both at once is a blank line in pdf-extract's own output.
                self.break_line(far_down && back_and_down);
            } else if x > self.last_x_end + size * 0.1 && !self.current.is_empty() {
                self.current.push(' ');
            }
        }
        self.current.push_str(text);
        if size.is_finite() {
            self.current_size = self.current_size.max(size);
        }
        self.first_char_of_word = false;
        self.last_y = y;
        self.last_x_end = x + width * size;
        Ok(())
    }

    fn begin_word(&mut self) -> Result<(), OutputError> {
        self.first_char_of_word = true;
        Ok(())
    }

    fn end_word(&mut self) -> Result<(), OutputError> {
        Ok(())
    }

    fn end_line(&mut self) -> Result<(), OutputError> {
        Ok(())
    }
}
