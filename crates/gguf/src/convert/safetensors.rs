//! Reading a `.safetensors` file: an 8-byte little-endian header length, a JSON header naming each
//! tensor's dtype, shape and byte range, then the raw little-endian data.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::ConvertError;
use crate::write::f16_to_f32;

/// One tensor, its values widened to f32.
#[derive(Debug, Clone)]
pub(crate) struct Tensor {
    pub shape: Vec<u64>,
    pub values: Vec<f32>,
}

#[derive(serde::Deserialize)]
struct Entry {
    dtype: String,
    shape: Vec<u64>,
    data_offsets: [u64; 2],
}

/// Every floating-point tensor of the file by name; integer tensors (position ids) are skipped.
pub(crate) fn read(path: &Path) -> Result<BTreeMap<String, Tensor>, ConvertError> {
    let bytes = std::fs::read(path).map_err(|source| ConvertError::Read {
        path: path.to_owned(),
        source,
    })?;
    parse(path, &bytes)
}

fn invalid(path: &Path, message: impl Into<String>) -> ConvertError {
    ConvertError::Invalid {
        path: PathBuf::from(path),
        message: message.into(),
    }
}

pub(crate) fn parse(path: &Path, bytes: &[u8]) -> Result<BTreeMap<String, Tensor>, ConvertError> {
    let header_len = bytes
        .get(..8)
        .and_then(|b| b.try_into().ok())
        .map(u64::from_le_bytes)
        .ok_or_else(|| invalid(path, "shorter than a safetensors header"))?;
    let data_start = 8u64
        .checked_add(header_len)
        .filter(|&end| end <= bytes.len() as u64)
        .ok_or_else(|| {
            invalid(
                path,
                format!("the header claims {header_len} bytes; the file is truncated"),
            )
        })?;
    let header: BTreeMap<String, serde_json::Value> = serde_json::from_slice(&bytes[8..data_start as usize])
        .map_err(|error| invalid(path, format!("the header is not JSON: {error}")))?;
    let data = &bytes[data_start as usize..];
    let mut tensors = BTreeMap::new();
    for (name, value) in header {
        if name == "__metadata__" {
            continue;
        }
        let entry: Entry =
            serde_json::from_value(value).map_err(|error| invalid(path, format!("tensor {name}: {error}")))?;
        let [start, end] = entry.data_offsets;
        let raw = (start <= end)
            .then(|| data.get(start as usize..end as usize))
            .flatten()
            .ok_or_else(|| {
                invalid(
                    path,
                    format!("tensor {name}: bytes {start}..{end} are outside the file"),
                )
            })?;
        let width = match entry.dtype.as_str() {
            "F32" => 4,
            "F16" | "BF16" => 2,
            "F64" => 8,
            "I64" | "I32" | "I16" | "I8" | "U8" | "BOOL" => continue,
            other => return Err(invalid(path, format!("tensor {name}: unsupported dtype {other}"))),
        };
        let elements = entry.shape.iter().try_fold(1u64, |n, &d| n.checked_mul(d));
        if elements.and_then(|n| n.checked_mul(width)) != Some(raw.len() as u64) {
            return Err(invalid(
                path,
                format!(
                    "tensor {name}: shape {:?} of {} does not fill its {} bytes",
                    entry.shape,
                    entry.dtype,
                    raw.len()
                ),
            ));
        }
        let values: Vec<f32> = match entry.dtype.as_str() {
            "F32" => raw
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
            "F16" => raw
                .chunks_exact(2)
                .map(|b| f16_to_f32(u16::from_le_bytes([b[0], b[1]])))
                .collect(),
            "BF16" => raw
                .chunks_exact(2)
                .map(|b| f32::from_bits(u32::from(u16::from_le_bytes([b[0], b[1]])) << 16))
                .collect(),
            _ => raw
                .chunks_exact(8)
                .map(|b| f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) as f32)
                .collect(),
        };
        tensors.insert(
            name,
            Tensor {
                shape: entry.shape,
                values,
            },
        );
    }
    Ok(tensors)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(header: &str, data: &[u8]) -> Vec<u8> {
        let mut bytes = (header.len() as u64).to_le_bytes().to_vec();
        bytes.extend_from_slice(header.as_bytes());
        bytes.extend_from_slice(data);
        bytes
    }

    #[test]
    fn reads_f32_f16_and_bf16_and_skips_integers() {
        let mut data = Vec::new();
        data.extend_from_slice(&1.5f32.to_le_bytes());
        data.extend_from_slice(&0x3c00u16.to_le_bytes()); // 1.0 in F16
        data.extend_from_slice(&0x4000u16.to_le_bytes()); // 2.0 in BF16
        data.extend_from_slice(&7i64.to_le_bytes());
        let header = r#"{"__metadata__":{"format":"pt"},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F16","shape":[1],"data_offsets":[4,6]},"c":{"dtype":"BF16","shape":[1],"data_offsets":[6,8]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#;
        let tensors = parse(Path::new("m.safetensors"), &file(header, &data)).expect("parses");
        assert_eq!(tensors["a"].values, vec![1.5]);
        assert_eq!(tensors["b"].values, vec![1.0]);
        assert_eq!(tensors["c"].values, vec![2.0]);
        assert!(!tensors.contains_key("ids"));
    }

    #[test]
    fn truncated_or_inconsistent_files_are_named_errors() {
        let path = Path::new("m.safetensors");
        assert!(parse(path, b"\x01\x02").is_err());
        let claims_too_much = file("{}", b"")[..6].to_vec();
        assert!(parse(path, &claims_too_much).is_err());
        let outside = file(r#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}"#, &[0; 4]);
        let error = parse(path, &outside).expect_err("outside the file").to_string();
        assert!(error.contains("m.safetensors") && error.contains("tensor a"), "{error}");
        let wrong_shape = file(r#"{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}"#, &[0; 8]);
        assert!(
            parse(path, &wrong_shape)
                .expect_err("shape")
                .to_string()
                .contains("shape")
        );
    }
}
