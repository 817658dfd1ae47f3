//! A minimal GGUF writer: metadata of the types a model needs, F32 and F16 tensors, alignment 32.

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

/// A tensor's values in the type they are written as.
enum TensorData {
    F32(Vec<f32>),
    /// IEEE half-precision bit patterns.
    F16(Vec<u16>),
}

impl TensorData {
    fn ggml_type(&self) -> GgmlType {
        match self {
            TensorData::F32(_) => GgmlType::F32,
            TensorData::F16(_) => GgmlType::F16,
        }
    }

    fn byte_len(&self) -> u64 {
        match self {
            TensorData::F32(values) => values.len() as u64 * 4,
            TensorData::F16(values) => values.len() as u64 * 2,
        }
    }
}

struct Tensor {
    name: String,
    dims: Vec<u64>,
    data: TensorData,
}

/// Collects metadata and tensors, then writes them as a GGUF version 3 file.
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
        self.add_tensor(name.into(), dims, TensorData::F32(data))
    }

    /// Adds a tensor stored as F16 (values rounded to nearest even), with ggml dimensions `dims`.
    ///
    /// # Panics
    /// As [`GgufWriter::add_f32_tensor`].
    pub fn add_f16_tensor(&mut self, name: impl Into<String>, dims: &[u64], data: &[f32]) -> &mut Self {
        let halves = data.iter().map(|&v| f32_to_f16(v)).collect();
        self.add_tensor(name.into(), dims, TensorData::F16(halves))
    }

    fn add_tensor(&mut self, name: String, dims: &[u64], data: TensorData) -> &mut Self {
        let elements: u64 = dims.iter().product();
        let values = match &data {
            TensorData::F32(v) => v.len(),
            TensorData::F16(v) => v.len(),
        };
        assert_eq!(
            elements, values as u64,
            "tensor {name} has dims {dims:?} but {values} values"
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
            put_u32(&mut out, tensor.data.ggml_type().id);
            put_u64(&mut out, offset);
            offset = (offset + tensor.data.byte_len()).next_multiple_of(ALIGNMENT);
        }
        pad(&mut out);
        out.reserve(usize::try_from(offset).unwrap_or(0));
        for tensor in &self.tensors {
            match &tensor.data {
                TensorData::F32(values) => values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
                TensorData::F16(values) => values.iter().for_each(|v| out.extend_from_slice(&v.to_le_bytes())),
            }
            pad(&mut out);
        }
        out
    }
}

/// IEEE 754 binary16 of `value`, rounded to nearest even; overflow becomes infinity, NaN stays NaN.
pub fn f32_to_f16(value: f32) -> u16 {
    let bits = value.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exponent = ((bits >> 23) & 0xff) as i32;
    let mantissa = bits & 0x007f_ffff;
    if exponent == 0xff {
        let nan = if mantissa != 0 { 0x0200 } else { 0 };
        return sign | 0x7c00 | nan;
    }
    let half_exponent = exponent - 127 + 15;
    if half_exponent >= 0x1f {
        return sign | 0x7c00;
    }
    if half_exponent <= 0 {
        // Subnormal in half precision (or zero).
        if half_exponent < -10 {
            return sign;
        }
        let full = mantissa | 0x0080_0000;
        let shift = (14 - half_exponent) as u32;
        let half = full >> shift;
        let rest = full & ((1 << shift) - 1);
        let halfway = 1 << (shift - 1);
        let round = u32::from(rest > halfway || (rest == halfway && half & 1 == 1));
        return sign | (half + round) as u16;
    }
    let half = ((half_exponent as u32) << 10) | (mantissa >> 13);
    let rest = mantissa & 0x1fff;
    let round = u32::from(rest > 0x1000 || (rest == 0x1000 && half & 1 == 1));
    // A carry out of the mantissa correctly bumps the exponent (to infinity at the top).
    sign | (half + round) as u16
}

/// The f32 value of an IEEE 754 binary16 bit pattern.
pub fn f16_to_f32(half: u16) -> f32 {
    let sign = u32::from(half & 0x8000) << 16;
    let exponent = u32::from((half >> 10) & 0x1f);
    let mantissa = u32::from(half & 0x03ff);
    let bits = match (exponent, mantissa) {
        (0, 0) => sign,
        (0, _) => {
            // Subnormal: normalise it.
            let mut e = 127 - 15 + 1;
            let mut m = mantissa;
            while m & 0x0400 == 0 {
                m <<= 1;
                e -= 1;
            }
            sign | (e << 23) | ((m & 0x03ff) << 13)
        }
        (0x1f, 0) => sign | 0x7f80_0000,
        (0x1f, _) => sign | 0x7fc0_0000,
        _ => sign | ((exponent + 127 - 15) << 23) | (mantissa << 13),
    };
    f32::from_bits(bits)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_precision_round_trips_and_rounds_to_nearest_even() {
        for value in [
            0.0f32,
            -0.0,
            1.0,
            -2.5,
            0.333_251_95,
            65504.0,
            6.103_515_6e-5,
            5.960_464_5e-8,
        ] {
            assert_eq!(f16_to_f32(f32_to_f16(value)), value, "{value}");
        }
        assert_eq!(f32_to_f16(1.0), 0x3c00);
        assert_eq!(f32_to_f16(65520.0), 0x7c00, "overflow rounds to infinity");
        assert!(f16_to_f32(f32_to_f16(f32::NAN)).is_nan());
        // 1 + 2^-11 is halfway between 1 and the next half: ties go to even (1).
        assert_eq!(f32_to_f16(1.0 + 2f32.powi(-11)), 0x3c00);
        assert_eq!(f32_to_f16(1.0 + 3.0 * 2f32.powi(-11)), 0x3c02);
        // Every half converts back to itself.
        for half in 0u16..0x7c00 {
            assert_eq!(f32_to_f16(f16_to_f32(half)), half, "{half:#x}");
        }
    }
}
