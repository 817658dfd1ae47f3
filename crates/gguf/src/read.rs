//! Reading a GGUF file's header, metadata and tensor infos, never its tensor data.
//!
//! Every length and count read from the file is checked against the bytes left before it is used, so
//! arbitrary bytes produce a [`GgufError`], never a panic or an allocation larger than the file.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::io;
use std::path::Path;

use crate::chat_format::{self, LONGEST_MARKER, MARKER_TOKENS};
use crate::cursor::Cursor;
use crate::file_type::file_type_name;
use crate::{GgmlType, GgufError, GgufInfo, MetadataValue, ValueType};

const MAGIC: &[u8; 4] = b"GGUF";
/// `general.alignment` when a file does not set it.
pub(crate) const DEFAULT_ALIGNMENT: u64 = 32;
/// Keys and tensor names are short (ggml's own limit for names is 64 bytes).
const MAX_NAME_LEN: u64 = 64 * 1024;
/// Chat templates are the longest strings kept; real ones are a few kilobytes.
const MAX_STRING_LEN: u64 = 64 * 1024 * 1024;
/// ggml tensors have at most four dimensions.
const MAX_DIMS: u32 = 4;
/// Arrays of arrays are allowed; this deep is more than any real file uses.
const MAX_ARRAY_DEPTH: u32 = 4;
/// The fewest bytes a metadata entry (empty key, u8 value) and a tensor info (empty name, no dims) take.
const MIN_KV_BYTES: u64 = 8 + 4 + 1;
const MIN_TENSOR_INFO_BYTES: u64 = 8 + 4 + 4 + 8;

/// Reads the header, metadata and tensor infos of the GGUF file at `path`, and checks that the file is
/// long enough to hold the tensor data they describe.
pub fn read_info(path: &Path) -> Result<GgufInfo, GgufError> {
    let file = File::open(path).map_err(|source| match source.kind() {
        io::ErrorKind::NotFound => GgufError::NotFound {
            path: path.to_path_buf(),
        },
        _ => GgufError::Io {
            path: path.to_path_buf(),
            action: "open",
            source,
        },
    })?;
    let len = file
        .metadata()
        .map_err(|source| GgufError::Io {
            path: path.to_path_buf(),
            action: "read",
            source,
        })?
        .len();
    let mut cursor = Cursor::new(file, len, path);
    read_magic(&mut cursor, path)?;
    let version = cursor.u32("the GGUF version")?;
    if version != 2 && version != 3 {
        return Err(GgufError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        });
    }
    let tensor_count = read_count(&mut cursor, "tensor count", MIN_TENSOR_INFO_BYTES)?;
    let kv_count = read_count(&mut cursor, "metadata entry count", MIN_KV_BYTES)?;

    let mut metadata = BTreeMap::new();
    let mut markers = BTreeSet::new();
    for _ in 0..kv_count {
        let at = cursor.pos();
        let (key, value) = read_kv(&mut cursor, &mut markers)?;
        if metadata.contains_key(&key) {
            return Err(cursor.malformed(at, format!("metadata key `{key}` appears twice")));
        }
        metadata.insert(key, value);
    }
    let tensors = read_tensor_infos(&mut cursor, tensor_count)?;

    let alignment = metadata
        .get("general.alignment")
        .and_then(MetadataValue::as_u64)
        .unwrap_or(DEFAULT_ALIGNMENT);
    let end_of_infos = cursor.pos();
    let required = if tensor_count == 0 {
        Some(end_of_infos)
    } else {
        end_of_infos
            .checked_next_multiple_of(alignment)
            .and_then(|start| start.checked_add(tensors.data_len))
    };
    let required = required.ok_or_else(|| cursor.malformed(end_of_infos, "tensor offsets overflow".to_owned()))?;
    if required > len {
        return Err(GgufError::Truncated {
            path: path.to_path_buf(),
            what: format!("the tensor data of {tensor_count} tensors"),
            expected: required,
            actual: len,
        });
    }

    let string = |key: &str| metadata.get(key).and_then(MetadataValue::as_str).map(str::to_owned);
    let architecture = string("general.architecture");
    let context_length = architecture
        .as_ref()
        .and_then(|arch| metadata.get(&format!("{arch}.context_length")))
        .and_then(MetadataValue::as_u64);
    let quantization = metadata
        .get("general.file_type")
        .and_then(MetadataValue::as_u64)
        .and_then(file_type_name)
        .or_else(|| tensors.commonest_type())
        .map(str::to_owned);
    let has_chat_template = metadata
        .get("tokenizer.chat_template")
        .and_then(MetadataValue::as_str)
        .is_some_and(|t| !t.is_empty());
    Ok(GgufInfo {
        path: path.to_path_buf(),
        file_size: len,
        version,
        name: string("general.name"),
        architecture,
        parameter_count: tensors.elements,
        quantization,
        context_length,
        has_chat_template,
        chat_format: chat_format::detect(&chat_format::Evidence {
            architecture: architecture_ref(&metadata),
            tokenizer: metadata.get("tokenizer.ggml.model").and_then(MetadataValue::as_str),
            markers: &markers,
            has_template: has_chat_template,
        }),
        control_tokens: markers,
        tensor_count,
        metadata,
    })
}

fn read_magic(cursor: &mut Cursor<'_>, path: &Path) -> Result<(), GgufError> {
    let mut first = [0u8; 4];
    let n = usize::try_from(cursor.len().min(4)).unwrap_or(4);
    let first = &mut first[..n];
    cursor.fill(first, "the magic number")?;
    if first == MAGIC {
        return Ok(());
    }
    if !first.is_empty() && MAGIC.starts_with(first) {
        return Err(GgufError::Truncated {
            path: path.to_path_buf(),
            what: "the GGUF header".to_owned(),
            expected: 24,
            actual: cursor.len(),
        });
    }
    let found = if first.is_empty() {
        "is empty".to_owned()
    } else {
        format!("starts with `{}`", first.escape_ascii())
    };
    Err(GgufError::NotGguf {
        path: path.to_path_buf(),
        found,
    })
}

/// Reads a count of items each taking at least `min_bytes`, refusing one the rest of the file cannot hold.
fn read_count(cursor: &mut Cursor<'_>, what: &str, min_bytes: u64) -> Result<u64, GgufError> {
    let at = cursor.pos();
    let count = cursor.u64(what)?;
    let room = cursor.remaining() / min_bytes;
    if count > room {
        return Err(cursor.malformed(
            at,
            format!("the {what} {count} is more than the rest of the file can hold"),
        ));
    }
    Ok(count)
}

fn architecture_ref(metadata: &BTreeMap<String, MetadataValue>) -> Option<&str> {
    metadata.get("general.architecture").and_then(MetadataValue::as_str)
}

/// The vocabulary: scanned for the control tokens that tell chat families apart.
const TOKENS_KEY: &str = "tokenizer.ggml.tokens";

fn read_kv(cursor: &mut Cursor<'_>, markers: &mut BTreeSet<String>) -> Result<(String, MetadataValue), GgufError> {
    let key_at = cursor.pos();
    let key = cursor.string_bytes("a metadata key", MAX_NAME_LEN)?;
    let key = String::from_utf8(key).map_err(|_| cursor.malformed(key_at, "a metadata key is not UTF-8".to_owned()))?;
    let type_at = cursor.pos();
    let code = cursor.u32("the type of a metadata value")?;
    let value_type = ValueType::from_code(code)
        .ok_or_else(|| cursor.malformed(type_at, format!("metadata `{key}` has unknown value type {code}")))?;
    let value_at = cursor.pos();
    let value = if key == TOKENS_KEY && value_type == ValueType::Array {
        read_vocabulary(cursor, &key, markers)?
    } else {
        read_value(cursor, value_type, &key)?
    };
    if key == "general.alignment" && !value.as_u64().is_some_and(|a| a.is_power_of_two()) {
        return Err(cursor.malformed(value_at, format!("general.alignment {value:?} is not a power of two")));
    }
    Ok((key, value))
}

fn read_value(cursor: &mut Cursor<'_>, value_type: ValueType, key: &str) -> Result<MetadataValue, GgufError> {
    let what = "a metadata value";
    Ok(match value_type {
        ValueType::U8 => MetadataValue::U8(u8::from_le_bytes(cursor.array(what)?)),
        ValueType::I8 => MetadataValue::I8(i8::from_le_bytes(cursor.array(what)?)),
        ValueType::U16 => MetadataValue::U16(u16::from_le_bytes(cursor.array(what)?)),
        ValueType::I16 => MetadataValue::I16(i16::from_le_bytes(cursor.array(what)?)),
        ValueType::U32 => MetadataValue::U32(u32::from_le_bytes(cursor.array(what)?)),
        ValueType::I32 => MetadataValue::I32(i32::from_le_bytes(cursor.array(what)?)),
        ValueType::F32 => MetadataValue::F32(f32::from_le_bytes(cursor.array(what)?)),
        ValueType::Bool => MetadataValue::Bool(cursor.array::<1>(what)?[0] != 0),
        ValueType::U64 => MetadataValue::U64(u64::from_le_bytes(cursor.array(what)?)),
        ValueType::I64 => MetadataValue::I64(i64::from_le_bytes(cursor.array(what)?)),
        ValueType::F64 => MetadataValue::F64(f64::from_le_bytes(cursor.array(what)?)),
        ValueType::String => {
            let bytes = cursor.string_bytes(what, MAX_STRING_LEN)?;
            MetadataValue::String(String::from_utf8_lossy(&bytes).into_owned())
        }
        ValueType::Array => {
            let type_at = cursor.pos();
            let code = cursor.u32("the element type of a metadata array")?;
            let element_type = ValueType::from_code(code)
                .ok_or_else(|| cursor.malformed(type_at, format!("array `{key}` has unknown element type {code}")))?;
            let len = cursor.u64("the length of a metadata array")?;
            skip_array(cursor, element_type, len, 1, key)?;
            MetadataValue::Array { element_type, len }
        }
    })
}

/// Reads the vocabulary array, keeping only which [`MARKER_TOKENS`] it holds; longer entries are
/// skipped unread.
fn read_vocabulary(
    cursor: &mut Cursor<'_>,
    key: &str,
    markers: &mut BTreeSet<String>,
) -> Result<MetadataValue, GgufError> {
    let type_at = cursor.pos();
    let code = cursor.u32("the element type of a metadata array")?;
    let element_type = ValueType::from_code(code)
        .ok_or_else(|| cursor.malformed(type_at, format!("array `{key}` has unknown element type {code}")))?;
    let len = cursor.u64("the length of a metadata array")?;
    if element_type != ValueType::String {
        skip_array(cursor, element_type, len, 1, key)?;
        return Ok(MetadataValue::Array { element_type, len });
    }
    let at = cursor.pos();
    if len.checked_mul(8).is_none_or(|bytes| bytes > cursor.remaining()) {
        return Err(cursor.malformed(
            at,
            format!("array `{key}` claims {len} elements, more than the rest of the file can hold"),
        ));
    }
    for _ in 0..len {
        let token = cursor.short_string("a token of the vocabulary", LONGEST_MARKER)?;
        if let Some(token) = token
            && let Some(marker) = MARKER_TOKENS
                .iter()
                .find(|marker| marker.as_bytes() == token.as_slice())
        {
            markers.insert((*marker).to_owned());
        }
    }
    Ok(MetadataValue::Array { element_type, len })
}

/// Skips an array's elements without allocating anything per element.
fn skip_array(
    cursor: &mut Cursor<'_>,
    element_type: ValueType,
    len: u64,
    depth: u32,
    key: &str,
) -> Result<(), GgufError> {
    let at = cursor.pos();
    let min_element_bytes = match element_type {
        ValueType::String => 8,
        ValueType::Array => 12,
        fixed => fixed.fixed_size().unwrap_or(1),
    };
    let too_long = || format!("array `{key}` claims {len} elements, more than the rest of the file can hold");
    let bytes = len
        .checked_mul(min_element_bytes)
        .ok_or_else(|| cursor.malformed(at, too_long()))?;
    if bytes > cursor.remaining() {
        return Err(cursor.malformed(at, too_long()));
    }
    match element_type {
        ValueType::String => {
            for _ in 0..len {
                cursor.skip_string("a string in a metadata array")?;
            }
        }
        ValueType::Array => {
            if depth >= MAX_ARRAY_DEPTH {
                return Err(cursor.malformed(at, format!("array `{key}` nests arrays deeper than {MAX_ARRAY_DEPTH}")));
            }
            for _ in 0..len {
                let type_at = cursor.pos();
                let code = cursor.u32("the element type of a nested array")?;
                let inner = ValueType::from_code(code).ok_or_else(|| {
                    cursor.malformed(type_at, format!("array `{key}` has unknown element type {code}"))
                })?;
                let inner_len = cursor.u64("the length of a nested array")?;
                skip_array(cursor, inner, inner_len, depth + 1, key)?;
            }
        }
        _ => cursor.skip(bytes, "a metadata array")?,
    }
    Ok(())
}

/// What the tensor infos add up to.
struct TensorSummary {
    /// Sum of element counts: the parameter count.
    elements: u64,
    /// Bytes from the start of the data section to the end of the last tensor.
    data_len: u64,
    /// Elements per ggml type id.
    elements_by_type: BTreeMap<u32, u64>,
}

impl TensorSummary {
    /// The name of the type holding the most elements (the lower id on a tie).
    fn commonest_type(&self) -> Option<&'static str> {
        let (&id, _) = self
            .elements_by_type
            .iter()
            .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))?;
        GgmlType::from_id(id).map(|t| t.name)
    }
}

fn read_tensor_infos(cursor: &mut Cursor<'_>, count: u64) -> Result<TensorSummary, GgufError> {
    let mut summary = TensorSummary {
        elements: 0,
        data_len: 0,
        elements_by_type: BTreeMap::new(),
    };
    for _ in 0..count {
        let at = cursor.pos();
        let name = cursor.string_bytes("a tensor name", MAX_NAME_LEN)?;
        let name = String::from_utf8_lossy(&name).into_owned();
        let bad = |cursor: &Cursor<'_>, what: String| cursor.malformed(at, format!("tensor `{name}`: {what}"));
        let n_dims = cursor.u32("a tensor's dimension count")?;
        if n_dims > MAX_DIMS {
            return Err(bad(cursor, format!("{n_dims} dimensions, more than ggml's {MAX_DIMS}")));
        }
        let mut dims = [1u64; MAX_DIMS as usize];
        let dims = &mut dims[..n_dims as usize];
        for dim in dims.iter_mut() {
            *dim = cursor.u64("a tensor dimension")?;
        }
        let type_id = cursor.u32("a tensor's type")?;
        let offset = cursor.u64("a tensor's offset")?;
        let ggml_type =
            GgmlType::from_id(type_id).ok_or_else(|| bad(cursor, format!("unknown ggml type {type_id}")))?;
        let elements = dims
            .iter()
            .try_fold(1u64, |acc, &d| acc.checked_mul(d))
            .ok_or_else(|| bad(cursor, format!("element count of {dims:?} overflows")))?;
        let bytes = ggml_type.tensor_bytes(dims).map_err(|what| bad(cursor, what))?;
        let end = offset
            .checked_add(bytes)
            .ok_or_else(|| bad(cursor, format!("offset {offset} overflows")))?;
        summary.data_len = summary.data_len.max(end);
        summary.elements = summary
            .elements
            .checked_add(elements)
            .ok_or_else(|| bad(cursor, "the total element count overflows".to_owned()))?;
        let by_type = summary.elements_by_type.entry(type_id).or_insert(0);
        *by_type = by_type.saturating_add(elements);
    }
    Ok(summary)
}

#[cfg(test)]
mod tests;
