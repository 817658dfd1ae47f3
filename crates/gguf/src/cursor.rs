//! A reader over a file that knows how many bytes are left, so no length read from the file can make it
//! allocate or skip past the end.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::Path;

use crate::GgufError;

pub(crate) struct Cursor<'p> {
    reader: BufReader<File>,
    pos: u64,
    len: u64,
    path: &'p Path,
}

impl<'p> Cursor<'p> {
    pub(crate) fn new(file: File, len: u64, path: &'p Path) -> Self {
        Cursor {
            reader: BufReader::with_capacity(64 * 1024, file),
            pos: 0,
            len,
            path,
        }
    }

    pub(crate) fn pos(&self) -> u64 {
        self.pos
    }

    pub(crate) fn len(&self) -> u64 {
        self.len
    }

    pub(crate) fn remaining(&self) -> u64 {
        self.len.saturating_sub(self.pos)
    }

    pub(crate) fn array<const N: usize>(&mut self, what: &str) -> Result<[u8; N], GgufError> {
        let mut buf = [0u8; N];
        self.fill(&mut buf, what)?;
        Ok(buf)
    }

    pub(crate) fn u32(&mut self, what: &str) -> Result<u32, GgufError> {
        Ok(u32::from_le_bytes(self.array(what)?))
    }

    pub(crate) fn u64(&mut self, what: &str) -> Result<u64, GgufError> {
        Ok(u64::from_le_bytes(self.array(what)?))
    }

    /// Reads a GGUF string (u64 length, then bytes) of at most `max_len` bytes.
    pub(crate) fn string_bytes(&mut self, what: &str, max_len: u64) -> Result<Vec<u8>, GgufError> {
        let at = self.pos;
        let len = self.string_len(what)?;
        if len > max_len {
            return Err(self.malformed(
                at,
                format!("{what} is {len} bytes long, more than the {max_len} allowed"),
            ));
        }
        let mut bytes = vec![0u8; usize::try_from(len).map_err(|_| self.malformed(at, format!("{what} is too long")))?];
        self.fill(&mut bytes, what)?;
        Ok(bytes)
    }

    /// Reads a GGUF string when it is at most `max_len` bytes long, else skips it (`None`).
    pub(crate) fn short_string(&mut self, what: &str, max_len: u64) -> Result<Option<Vec<u8>>, GgufError> {
        let len = self.string_len(what)?;
        if len > max_len {
            self.skip(len, what)?;
            return Ok(None);
        }
        // At most `max_len` bytes: the cast cannot truncate.
        let mut bytes = vec![0u8; len as usize];
        self.fill(&mut bytes, what)?;
        Ok(Some(bytes))
    }

    /// Skips a GGUF string without reading it.
    pub(crate) fn skip_string(&mut self, what: &str) -> Result<(), GgufError> {
        let len = self.string_len(what)?;
        self.skip(len, what)
    }

    /// Reads a string's length and checks that the file holds that many more bytes.
    fn string_len(&mut self, what: &str) -> Result<u64, GgufError> {
        let at = self.pos;
        let len = self.u64(what)?;
        if len > self.remaining() {
            let remaining = self.remaining();
            return Err(self.malformed(at, format!("{what} claims {len} bytes but only {remaining} are left")));
        }
        Ok(len)
    }

    /// Skips `n` bytes; `n` must have been checked against [`Cursor::remaining`] by the caller.
    pub(crate) fn skip(&mut self, n: u64, what: &str) -> Result<(), GgufError> {
        if n > self.remaining() {
            return Err(self.truncated(what, n));
        }
        let step = i64::try_from(n).map_err(|_| self.malformed(self.pos, format!("{what} is too long")))?;
        self.reader.seek_relative(step).map_err(|source| self.io(source))?;
        self.pos += n;
        Ok(())
    }

    pub(crate) fn fill(&mut self, buf: &mut [u8], what: &str) -> Result<(), GgufError> {
        let n = buf.len() as u64;
        if n > self.remaining() {
            return Err(self.truncated(what, n));
        }
        self.reader.read_exact(buf).map_err(|source| self.io(source))?;
        self.pos += n;
        Ok(())
    }

    pub(crate) fn truncated(&self, what: &str, needed: u64) -> GgufError {
        GgufError::Truncated {
            path: self.path.to_path_buf(),
            what: format!("{what} at byte {}", self.pos),
            expected: self.pos.saturating_add(needed),
            actual: self.len,
        }
    }

    pub(crate) fn malformed(&self, offset: u64, what: String) -> GgufError {
        GgufError::Malformed {
            path: self.path.to_path_buf(),
            offset,
            what,
        }
    }

    fn io(&self, source: std::io::Error) -> GgufError {
        GgufError::Io {
            path: self.path.to_path_buf(),
            action: "read",
            source,
        }
    }
}
