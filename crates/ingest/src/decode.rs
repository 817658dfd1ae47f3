use std::path::Path;

use sha2::{Digest, Sha256};

use crate::IngestError;

/// The file's text, refusing binary data and invalid UTF-8 with the place
/// it goes wrong. A UTF-8 byte order mark is dropped.
pub(crate) fn decode_text<'a>(path: &Path, bytes: &'a [u8]) -> Result<&'a str, IngestError> {
    if let Some(offset) = bytes.iter().position(|&b| b == 0) {
        return Err(IngestError::Binary {
            path: path.to_owned(),
            offset,
        });
    }
    let text = std::str::from_utf8(bytes).map_err(|e| {
        let valid = &bytes[..e.valid_up_to()];
        let line = valid.iter().filter(|&&b| b == b'\n').count() + 1;
        let line_start = valid.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1);
        let column = String::from_utf8_lossy(&valid[line_start..]).chars().count() + 1;
        IngestError::NotUtf8 {
            path: path.to_owned(),
            line,
            column,
        }
    })?;
    Ok(text.strip_prefix('\u{feff}').unwrap_or(text))
}

/// SHA-256 of bytes as lower-case hex: how files are recognised.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn binary_and_invalid_utf8_are_located() {
        let path = Path::new("x.txt");
        assert!(matches!(
            decode_text(path, b"ab\0c"),
            Err(IngestError::Binary { offset: 2, .. })
        ));
        let err = decode_text(path, b"ok\nab\xffc").expect_err("invalid utf-8");
        assert!(matches!(err, IngestError::NotUtf8 { line: 2, column: 3, .. }), "{err}");
        assert_eq!(decode_text(path, "\u{feff}hi".as_bytes()).ok(), Some("hi"));
    }
}
