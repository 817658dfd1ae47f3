//! A PDF whose cross-reference table is missing or points at the wrong
//! bytes (a truncated download, bytes inserted by an editor) still holds its
//! objects. Readers such as poppler rebuild the table by scanning for
//! `N G obj`; this does the same and appends a fresh table and trailer, so
//! the extractor can read the file.

/// The file with a rebuilt cross-reference table appended, or `None` when
/// no catalog object is found (or the file is encrypted: its trailer's key
/// material cannot be rebuilt).
pub(crate) fn rebuild_xref(bytes: &[u8]) -> Option<Vec<u8>> {
    if contains(bytes, b"/Encrypt") {
        return None;
    }
    let mut objects: Vec<(u32, u16, usize)> = Vec::new();
    let mut from = 0;
    while let Some(found) = find(&bytes[from..], b"obj") {
        let at = from + found;
        from = at + 3;
        if let Some((number, generation, start)) = object_header_before(bytes, at) {
            objects.push((number, generation, start));
        }
    }
    if objects.is_empty() {
        return None;
    }
    // A later definition of an object replaces an earlier one (incremental updates).
    let mut latest: std::collections::BTreeMap<u32, (u16, usize)> = std::collections::BTreeMap::new();
    for (number, generation, start) in objects {
        latest.insert(number, (generation, start));
    }
    let root = latest.iter().find_map(|(number, (generation, start))| {
        let body = &bytes[*start..bytes.len().min(start + 400)];
        let catalog = contains(body, b"/Type /Catalog") || contains(body, b"/Type/Catalog");
        catalog.then(|| format!("{number} {generation} R"))
    })?;
    let size = latest.keys().next_back().copied()? + 1;
    if size > 10_000_000 {
        return None;
    }
    let mut out = bytes.to_vec();
    out.push(b'\n');
    let xref_at = out.len();
    out.extend(format!("xref\n0 {size}\n").as_bytes());
    for number in 0..size {
        match latest.get(&number) {
            Some((generation, start)) => out.extend(format!("{start:010} {generation:05} n \n").as_bytes()),
            None => out.extend(b"0000000000 65535 f \n"),
        }
    }
    out.extend(format!("trailer\n<< /Size {size} /Root {root} >>\nstartxref\n{xref_at}\n%%EOF\n").as_bytes());
    Some(out)
}

/// `N G ` right before `obj` at `at`, at the start of a line or after white
/// space: the object's number, generation and first byte.
fn object_header_before(bytes: &[u8], at: usize) -> Option<(u32, u16, usize)> {
    let after = bytes.get(at + 3).copied();
    if after.is_some_and(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let mut i = at;
    let skip_space = |i: &mut usize| -> bool {
        let start = *i;
        while *i > 0 && bytes[*i - 1].is_ascii_whitespace() {
            *i -= 1;
        }
        *i < start
    };
    let take_digits = |i: &mut usize| -> Option<&[u8]> {
        let end = *i;
        while *i > 0 && bytes[*i - 1].is_ascii_digit() && end - *i < 10 {
            *i -= 1;
        }
        (*i < end).then(|| &bytes[*i..end])
    };
    if !skip_space(&mut i) {
        return None;
    }
    let generation = std::str::from_utf8(take_digits(&mut i)?).ok()?.parse().ok()?;
    if !skip_space(&mut i) {
        return None;
    }
    let number = std::str::from_utf8(take_digits(&mut i)?).ok()?.parse().ok()?;
    let starts_line = i == 0 || bytes[i - 1].is_ascii_whitespace();
    starts_line.then_some((number, generation, i))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    find(haystack, needle).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn objects_are_found_by_their_headers_and_the_catalog_is_the_root() {
        let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n";
        let rebuilt = rebuild_xref(pdf).expect("rebuilt");
        let tail = String::from_utf8_lossy(&rebuilt[pdf.len()..]).into_owned();
        assert!(tail.contains("0000000009 00000 n"), "{tail}");
        assert!(tail.contains("/Root 1 0 R"), "{tail}");
        assert!(tail.contains("/Size 3"), "{tail}");
        assert_eq!(rebuild_xref(b"%PDF-1.4\nnothing here"), None);
        assert_eq!(
            rebuild_xref(b"%PDF-1.4\n1 0 obj << /Encrypt 2 0 R /Type /Catalog >> endobj"),
            None
        );
    }
}
