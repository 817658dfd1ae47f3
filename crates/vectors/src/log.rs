//! The append-only file of vector records and its header.
//!
//! Header: `HYPVEC01`, dimensions (u32 LE), the model identity as JSON (u32 LE length, bytes).
//! Records: tag 1 (put: paper, passage, text hash u64, `dims` f32) or tag 2 (remove: paper,
//! passage); strings as u32 LE length and UTF-8 bytes. A record cut short by a crash is ignored.

use std::io::Write;
use std::path::Path;

use crate::VectorError;

pub(crate) const MAGIC: &[u8; 8] = b"HYPVEC01";
const PUT: u8 = 1;
const REMOVE: u8 = 2;

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Record {
    Put {
        paper: String,
        passage: String,
        text_hash: u64,
        vector: Vec<f32>,
    },
    Remove {
        paper: String,
        passage: String,
    },
}

pub(crate) fn header(dims: usize, identity_json: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + identity_json.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&(dims as u32).to_le_bytes());
    put_str(&mut out, identity_json);
    out
}

pub(crate) fn encode(record: &Record, out: &mut Vec<u8>) {
    match record {
        Record::Put {
            paper,
            passage,
            text_hash,
            vector,
        } => {
            out.push(PUT);
            put_str(out, paper);
            put_str(out, passage);
            out.extend_from_slice(&text_hash.to_le_bytes());
            for value in vector {
                out.extend_from_slice(&value.to_le_bytes());
            }
        }
        Record::Remove { paper, passage } => {
            out.push(REMOVE);
            put_str(out, paper);
            put_str(out, passage);
        }
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&(s.len() as u32).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
}

/// A parsed log: its header and every whole record, and where the whole records end.
pub(crate) struct Parsed {
    pub dims: usize,
    pub identity_json: String,
    pub records: Vec<Record>,
    pub valid_len: usize,
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> Option<&[u8]> {
        let end = self.at.checked_add(n)?;
        let slice = self.bytes.get(self.at..end)?;
        self.at = end;
        Some(slice)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take(4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }
    fn u64(&mut self) -> Option<u64> {
        self.take(8).and_then(|b| b.try_into().ok()).map(u64::from_le_bytes)
    }
    fn string(&mut self) -> Option<Result<String, String>> {
        let len = self.u32()? as usize;
        let bytes = self.take(len)?;
        Some(String::from_utf8(bytes.to_vec()).map_err(|_| "a string that is not UTF-8".to_owned()))
    }
}

/// Parses the whole file. A wrong header is an error. A malformed record ends the log: it and what
/// follows are what a crash left (a record cut short, or the zeros a file system leaves after an
/// unsynced append), and the vectors they held are derived data, embedded again.
pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<Parsed, VectorError> {
    let corrupt = |at: usize, message: &str| VectorError::Corrupt {
        path: path.to_owned(),
        message: format!("byte {at}: {message}"),
    };
    let mut reader = Reader { bytes, at: 0 };
    if reader.take(MAGIC.len()) != Some(MAGIC.as_slice()) {
        return Err(corrupt(0, "not a Hypatia vector file"));
    }
    let dims = reader.u32().ok_or_else(|| corrupt(8, "the header is cut short"))? as usize;
    let identity_json = match reader.string() {
        Some(Ok(text)) => text,
        Some(Err(message)) => return Err(corrupt(12, &message)),
        None => return Err(corrupt(12, "the header is cut short")),
    };
    let mut records = Vec::new();
    let mut valid_len = reader.at;
    while reader.at < bytes.len() {
        let start = reader.at;
        match read_record(&mut reader, dims) {
            Some(Ok(record)) => records.push(record),
            None => break, // cut short: a crash during the last append
            Some(Err(message)) => {
                tracing::warn!(file = %path.display(), byte = start, problem = %message,
                    "the vector log ends in a damaged record; the vectors from there on are embedded again");
                break;
            }
        }
        valid_len = reader.at;
    }
    Ok(Parsed {
        dims,
        identity_json,
        records,
        valid_len,
    })
}

fn read_record(reader: &mut Reader<'_>, dims: usize) -> Option<Result<Record, String>> {
    let tag = reader.take(1)?[0];
    let paper = match reader.string()? {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    let passage = match reader.string()? {
        Ok(s) => s,
        Err(e) => return Some(Err(e)),
    };
    match tag {
        PUT => {
            let text_hash = reader.u64()?;
            let raw = reader.take(dims.checked_mul(4)?)?;
            let vector = raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect();
            Some(Ok(Record::Put {
                paper,
                passage,
                text_hash,
                vector,
            }))
        }
        REMOVE => Some(Ok(Record::Remove { paper, passage })),
        other => Some(Err(format!("unknown record tag {other}"))),
    }
}

/// Writes `bytes` to a temporary file beside `path` and renames it over `path`.
pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), VectorError> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(format!(".{}.tmp", std::process::id()));
    let temp = path.with_file_name(name);
    let result = std::fs::File::create(&temp)
        .and_then(|mut file| {
            file.write_all(bytes)?;
            file.sync_all()
        })
        .map_err(VectorError::io(&temp, "write"));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temp);
        return Err(error);
    }
    std::fs::rename(&temp, path).map_err(|source| {
        let _ = std::fs::remove_file(&temp);
        VectorError::Io {
            path: path.to_owned(),
            action: "replace",
            source,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_a_torn_tail_is_dropped() {
        let mut bytes = header(2, r#"{"model":"m","dimensions":2}"#);
        let put = Record::Put {
            paper: "p1".into(),
            passage: "p1#0".into(),
            text_hash: 9,
            vector: vec![0.5, -1.0],
        };
        let remove = Record::Remove {
            paper: "p1".into(),
            passage: "p1#0".into(),
        };
        encode(&put, &mut bytes);
        encode(&remove, &mut bytes);
        let whole = bytes.len();
        encode(&put, &mut bytes);
        bytes.truncate(bytes.len() - 3);
        let parsed = parse(Path::new("v.log"), &bytes).expect("parses");
        assert_eq!(parsed.dims, 2);
        assert_eq!(parsed.records, vec![put, remove]);
        assert_eq!(parsed.valid_len, whole);
    }

    #[test]
    fn a_foreign_file_is_an_error_and_a_zero_filled_tail_ends_the_log() {
        assert!(parse(Path::new("v.log"), b"not a vector file").is_err());
        let mut bytes = header(1, "{}");
        let put = Record::Put {
            paper: "p".into(),
            passage: "p#0".into(),
            text_hash: 1,
            vector: vec![1.0],
        };
        encode(&put, &mut bytes);
        let whole = bytes.len();
        bytes.extend_from_slice(&[0; 64]);
        let parsed = parse(Path::new("v.log"), &bytes).expect("the records before the zeros");
        assert_eq!(parsed.records, vec![put]);
        assert_eq!(parsed.valid_len, whole);
    }
}
