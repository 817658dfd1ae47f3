//! Small PDFs written by hand, with correct cross-reference tables: the hostile files and the seeds
//! the PDF reader is tested and fuzzed with.

/// A PDF from object bodies (numbered from 1, object 1 the catalog); `trailer` is added to the
/// trailer dictionary.
pub fn pdf_from_objects(objects: &[String], trailer: &str) -> Vec<u8> {
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend(format!("{} 0 obj\n{body}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend(format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes());
    for offset in offsets {
        out.extend(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R {trailer} >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// A one-page PDF (US Letter, Helvetica as `/F1`) drawing the content stream `content`; `extra`
/// objects are numbered from 6, and `trailer` is added to the trailer.
pub fn one_page_pdf(content: &str, trailer: &str, extra: &[String]) -> Vec<u8> {
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_owned(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>"
            .to_owned(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    objects.extend(extra.iter().cloned());
    pdf_from_objects(&objects, trailer)
}

/// A one-page PDF whose page shows `lines` of text, top down.
pub fn text_pdf(lines: &[&str]) -> Vec<u8> {
    one_page_pdf(&text_content(lines, 11), "", &[])
}

/// A content stream setting `lines` at `size` points, top down, 1.3 lines apart.
pub fn text_content(lines: &[&str], size: u32) -> String {
    let mut content = format!("BT /F1 {size} Tf 72 720 Td {} TL\n", size * 13 / 10);
    for line in lines {
        let escaped = line.replace('\\', "\\\\").replace('(', "\\(").replace(')', "\\)");
        content.push_str(&format!("({escaped}) Tj T*\n"));
    }
    content.push_str("ET");
    content
}

/// A PDF of several pages, each a heading set large and body lines: a paper in miniature, with a
/// running header on every page and a reference list on the last.
pub fn paper_pdf(pages: &[(&str, &[&str])]) -> Vec<u8> {
    let count = pages.len();
    let kids: Vec<String> = (0..count).map(|i| format!("{} 0 R", 4 + 2 * i)).collect();
    let mut objects = vec![
        "<< /Type /Catalog /Pages 2 0 R >>".to_owned(),
        format!("<< /Type /Pages /Kids [{}] /Count {count} >>", kids.join(" ")),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_owned(),
    ];
    for (number, (heading, lines)) in pages.iter().enumerate() {
        let mut content = String::from("BT /F1 9 Tf 72 760 Td (Proceedings of the Workshop on Engines) Tj ET\n");
        content.push_str(&format!("BT /F1 14 Tf 72 720 Td ({heading}) Tj ET\n"));
        let body = text_content(lines, 10).replacen("72 720 Td", "72 690 Td", 1);
        content.push_str(&body);
        content.push_str(&format!("\nBT /F1 9 Tf 300 40 Td ({}) Tj ET", number + 1));
        objects.push(format!(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {} 0 R /Resources << /Font << /F1 3 0 R >> >> >>",
            5 + 2 * number
        ));
        objects.push(format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()));
    }
    pdf_from_objects(&objects, "")
}
