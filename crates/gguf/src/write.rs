//! A minimal GGUF writer: metadata of the types a llama model needs, F32 tensors, alignment 32.

use crate::{GgmlType, ValueType};

/// Tensor data starts, and each tensor's data begins, at a multiple of this many bytes.
pub const ALIGNMENT: u64 = 32;

/// A metadata value to write.
#[derive(Debug, Clone, PartialEq)]
pub enum WriteValue {
    U32(u32),
    I32(i32),
    U64(u64),
    F32(f32),
    Bool(bool),
    String(String),
    StringArray(Vec<String>),
    F32Array(Vec<f32>),
    I32Array(Vec<i32>),
}

struct Tensor {
    name: String,
    dims: Vec<u64>,
    data: Vec<f32>,
}

/// Collects metadata and F32 tensors, then writes them as a GGUF version 3 file.
#[derive(Default)]
pub struct GgufWriter {
    metadata: Vec<(String, WriteValue)>,
    tensors: Vec<Tensor>,
}

impl GgufWriter {
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a metadata entry; entries are written in the order they were added.
    pub fn add_metadata(&mut self, key: impl Into<String>, value: WriteValue) -> &mut Self {
        self.metadata.push((key.into(), value));
        self
    }

    /// Adds an F32 tensor with ggml dimensions `dims` (ne0 first).
    ///
    /// # Panics
    /// If `data` does not hold exactly the product of `dims` elements: that is a bug in the caller.
    pub fn add_f32_tensor(&mut self, name: impl Into<String>, dims: &[u64], data: Vec<f32>) -> &mut Self {
        let name = name.into();
        let elements: u64 = dims.iter().product();
        assert_eq!(
            elements,
            data.len() as u64,
            "tensor {name} has dims {dims:?} but {} values",
            data.len()
        );
        self.tensors.push(Tensor {
            name,
            dims: dims.to_vec(),
            data,
        });
        self
    }

    /// The whole file.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend_from_slice(b"GGUF");
        put_u32(&mut out, 3);
        put_u64(&mut out, self.tensors.len() as u64);
        put_u64(&mut out, self.metadata.len() as u64);
        for (key, value) in &self.metadata {
            put_string(&mut out, key);
            put_value(&mut out, value);
        }
        let mut offset = 0u64;
        for tensor in &self.tensors {
            put_string(&mut out, &tensor.name);
            put_u32(&mut out, tensor.dims.len() as u32);
            for &dim in &tensor.dims {
                put_u64(&mut out, dim);
            }
            put_u32(&mut out, GgmlType::F32.id);
            put_u64(&mut out, offset);
            offset = (offset + tensor.data.len() as u64 * GgmlType::F32.type_size).next_multiple_of(ALIGNMENT);
        }
        pad(&mut out);
        out.reserve(usize::try_from(offset).unwrap_or(0));
        for tensor in &self.tensors {
            for value in &tensor.data {
                out.extend_from_slice(&value.to_le_bytes());
            }
            pad(&mut out);
        }
        out
    }
}

fn pad(out: &mut Vec<u8>) {
    let len = (out.len() as u64).next_multiple_of(ALIGNMENT);
    out.resize(usize::try_from(len).unwrap_or(out.len()), 0);
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u64(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_string(out: &mut Vec<u8>, s: &str) {
    put_u64(out, s.len() as u64);
    out.extend_from_slice(s.as_bytes());
}

fn put_array_header(out: &mut Vec<u8>, element_type: ValueType, len: usize) {
    put_u32(out, ValueType::Array.code());
    put_u32(out, element_type.code());
    put_u64(out, len as u64);
}

fn put_value(out: &mut Vec<u8>, value: &WriteValue) {
    match value {
        WriteValue::U32(v) => {
            put_u32(out, ValueType::U32.code());
            put_u32(out, *v);
        }
        WriteValue::I32(v) => {
            put_u32(out, ValueType::I32.code());
            out.extend_from_slice(&v.to_le_bytes());
        }
        WriteValue::U64(v) => {
            put_u32(out, ValueType::U64.code());
            put_u64(out, *v);
        }
        WriteValue::F32(v) => {
            put_u32(out, ValueType::F32.code());
            out.extend_from_slice(&v.to_le_bytes());
        }
        WriteValue::Bool(v) => {
            put_u32(out, ValueType::Bool.code());
            out.push(u8::from(*v));
        }
        WriteValue::String(s) => {
            put_u32(out, ValueType::String.code());
            put_string(out, s);
        }
        WriteValue::StringArray(items) => {
            put_array_header(out, ValueType::String, items.len());
            for item in items {
                put_string(out, item);
            }
        }
        WriteValue::F32Array(items) => {
            put_array_header(out, ValueType::F32, items.len());
            for item in items {
                out.extend_from_slice(&item.to_le_bytes());
            }
        }
        WriteValue::I32Array(items) => {
            put_array_header(out, ValueType::I32, items.len());
            for item in items {
                out.extend_from_slice(&item.to_le_bytes());
            }
        }
    }
}
