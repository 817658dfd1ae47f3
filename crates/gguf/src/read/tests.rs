use std::fs;
use std::path::Path;

use super::*;
use crate::{GgufWriter, TinyModelSpec, WriteValue, write_tiny_model};

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let path = dir.join(name);
    fs::write(&path, bytes).expect("write");
    path
}

/// A small file with every kind of metadata the writer makes and two tensors.
fn small_file() -> Vec<u8> {
    let mut w = GgufWriter::new();
    w.add_metadata("general.architecture", WriteValue::String("llama".into()))
        .add_metadata("general.name", WriteValue::String("small".into()))
        .add_metadata("llama.context_length", WriteValue::U32(4096))
        .add_metadata("flag", WriteValue::Bool(true))
        .add_metadata("big", WriteValue::U64(1 << 40))
        .add_metadata("neg", WriteValue::I32(-3))
        .add_metadata("words", WriteValue::StringArray(vec!["a".into(), "bc".into()]))
        .add_metadata("floats", WriteValue::F32Array(vec![1.0, 2.0, 3.0]))
        .add_metadata("ints", WriteValue::I32Array(vec![1, 2]))
        .add_metadata("tokenizer.chat_template", WriteValue::String(String::new()))
        .add_f32_tensor("a", &[4, 2], vec![0.5; 8])
        .add_f32_tensor("b", &[3], vec![1.0; 3]);
    w.to_bytes()
}

#[test]
fn reads_what_was_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(dir.path(), "small.gguf", &small_file());
    let info = read_info(&path).expect("read");
    assert_eq!(info.architecture.as_deref(), Some("llama"));
    assert_eq!(info.name.as_deref(), Some("small"));
    assert_eq!(info.context_length, Some(4096));
    assert_eq!(info.parameter_count, 11);
    assert_eq!(info.tensor_count, 2);
    assert_eq!(
        info.quantization.as_deref(),
        Some("F32"),
        "no file_type: the commonest tensor type"
    );
    assert!(!info.has_chat_template, "an empty template is no template");
    assert_eq!(info.get("flag"), Some(&MetadataValue::Bool(true)));
    assert_eq!(info.get("big").and_then(MetadataValue::as_u64), Some(1 << 40));
    assert_eq!(info.get("neg"), Some(&MetadataValue::I32(-3)));
    assert_eq!(
        info.get("words"),
        Some(&MetadataValue::Array {
            element_type: ValueType::String,
            len: 2
        })
    );
    assert_eq!(
        info.get("floats"),
        Some(&MetadataValue::Array {
            element_type: ValueType::F32,
            len: 3
        })
    );
    assert_eq!(info.metadata().count(), 10);
    let json = serde_json::to_value(&info).expect("json");
    assert_eq!(json["architecture"], "llama");
    assert_eq!(json["parameter_count"], 11);
}

#[test]
fn file_type_names_the_quantization() {
    let mut w = GgufWriter::new();
    w.add_metadata("general.file_type", WriteValue::U32(15));
    let dir = tempfile::tempdir().expect("tempdir");
    let info = read_info(&write(dir.path(), "q.gguf", &w.to_bytes())).expect("read");
    assert_eq!(info.quantization.as_deref(), Some("Q4_K_M"));
    assert_eq!(info.parameter_count, 0);
}

#[test]
fn missing_file_is_not_found() {
    let err = read_info(Path::new("/nonexistent/model.gguf")).expect_err("missing");
    assert!(matches!(err, GgufError::NotFound { .. }), "{err}");
    assert!(err.to_string().contains("/nonexistent/model.gguf"), "{err}");
}

#[test]
fn other_files_are_not_gguf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let err = read_info(&write(dir.path(), "empty", b"")).expect_err("empty");
    assert!(
        matches!(&err, GgufError::NotGguf { found, .. } if found == "is empty"),
        "{err}"
    );
    let err = read_info(&write(dir.path(), "zip", b"PK\x03\x04rest of a zip")).expect_err("zip");
    assert!(
        matches!(&err, GgufError::NotGguf { found, .. } if found == r"starts with `PK\x03\x04`"),
        "{err}"
    );
    assert!(err.to_string().contains("is not a GGUF model file"), "{err}");
    let err = read_info(&write(dir.path(), "short", b"x")).expect_err("short");
    assert!(
        matches!(&err, GgufError::NotGguf { found, .. } if found == "starts with `x`"),
        "{err}"
    );
}

#[test]
fn old_and_big_endian_versions_are_unsupported() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = small_file();
    bytes[4..8].copy_from_slice(&1u32.to_le_bytes());
    let err = read_info(&write(dir.path(), "v1", &bytes)).expect_err("v1");
    assert!(matches!(err, GgufError::UnsupportedVersion { version: 1, .. }), "{err}");
    bytes[4..8].copy_from_slice(&3u32.to_be_bytes());
    let err = read_info(&write(dir.path(), "be", &bytes)).expect_err("big-endian");
    assert!(err.to_string().contains("big-endian"), "{err}");
}

#[test]
fn missing_tensor_data_is_truncated() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bytes = small_file();
    // The last tensor's 12 bytes are followed by 20 bytes of padding, which llama.cpp does not need.
    let info_ok = read_info(&write(dir.path(), "unpadded", &bytes[..bytes.len() - 20])).expect("unpadded");
    assert_eq!(info_ok.parameter_count, 11);
    let cut = bytes.len() - 21;
    let err = read_info(&write(dir.path(), "cut", &bytes[..cut])).expect_err("cut");
    match err {
        GgufError::Truncated { expected, actual, .. } => {
            assert_eq!(actual, cut as u64);
            assert!(expected > actual);
        }
        other => panic!("expected Truncated, got {other}"),
    }
}

#[test]
fn lengths_beyond_the_file_are_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = small_file();
    // The first key's length, right after the 24-byte header.
    bytes[24..32].copy_from_slice(&u64::MAX.to_le_bytes());
    let err = read_info(&write(dir.path(), "huge-key", &bytes)).expect_err("huge key");
    assert!(matches!(err, GgufError::Malformed { offset: 24, .. }), "{err}");
    let mut bytes = small_file();
    bytes[16..24].copy_from_slice(&(u64::MAX / 2).to_le_bytes());
    let err = read_info(&write(dir.path(), "many-kvs", &bytes)).expect_err("many kvs");
    assert!(matches!(err, GgufError::Malformed { offset: 16, .. }), "{err}");
}

#[test]
fn unknown_value_type_is_malformed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut bytes = small_file();
    // Header (24) + key length (8) + "general.architecture" (20): the first value type.
    bytes[52..56].copy_from_slice(&99u32.to_le_bytes());
    let err = read_info(&write(dir.path(), "type", &bytes)).expect_err("type");
    assert!(matches!(err, GgufError::Malformed { offset: 52, .. }), "{err}");
    assert!(err.to_string().contains("unknown value type 99"), "{err}");
}

#[test]
fn deeply_nested_arrays_are_refused_not_recursed() {
    let mut bytes = b"GGUF".to_vec();
    bytes.extend_from_slice(&3u32.to_le_bytes());
    bytes.extend_from_slice(&0u64.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.extend_from_slice(&1u64.to_le_bytes());
    bytes.push(b'k');
    bytes.extend_from_slice(&9u32.to_le_bytes());
    for _ in 0..100_000 {
        bytes.extend_from_slice(&9u32.to_le_bytes());
        bytes.extend_from_slice(&1u64.to_le_bytes());
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let err = read_info(&write(dir.path(), "nested", &bytes)).expect_err("nested");
    assert!(err.to_string().contains("deeper"), "{err}");
}

/// Every prefix of a valid file and every single-byte corruption of its header gives Ok or a typed error.
#[test]
fn truncations_and_flipped_bytes_never_panic() {
    let dir = tempfile::tempdir().expect("tempdir");
    let model = dir.path().join("model.gguf");
    write_tiny_model(
        &model,
        &TinyModelSpec {
            n_layer: 1,
            n_embd: 32,
            n_head: 2,
            n_head_kv: 1,
            n_ff: 64,
            ..TinyModelSpec::default()
        },
    )
    .expect("write");
    let bytes = fs::read(&model).expect("read");
    let info = read_info(&model).expect("valid");
    let header_len = bytes.len() - usize::try_from(info.parameter_count * 4).expect("fits");
    let path = dir.path().join("fuzz.gguf");
    let mut truncated = 0;
    for cut in (0..header_len + 64).chain((header_len..bytes.len()).step_by(997)) {
        fs::write(&path, &bytes[..cut]).expect("write");
        match read_info(&path) {
            Err(GgufError::Truncated { .. } | GgufError::Malformed { .. } | GgufError::NotGguf { .. }) => {
                truncated += 1
            }
            other => panic!("cut at {cut}: {other:?}"),
        }
    }
    assert!(truncated > header_len);

    let mut rng = hypatia_core::SplitMix64::new(1);
    let mut outcomes = [0usize; 2];
    for i in 0..2000 {
        let mut damaged = bytes.clone();
        let at = if i < header_len {
            i
        } else {
            (rng.next_u64() % header_len as u64) as usize
        };
        damaged[at] ^= 1 << (rng.next_u64() % 8);
        if i % 3 == 0 {
            damaged[at] = 0xFF;
        }
        fs::write(&path, &damaged).expect("write");
        match read_info(&path) {
            Ok(_) => outcomes[0] += 1,
            Err(GgufError::NotFound { .. } | GgufError::Io { .. } | GgufError::InvalidSpec { .. }) => {
                panic!("flip at {at}: unexpected error kind")
            }
            Err(_) => outcomes[1] += 1,
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
