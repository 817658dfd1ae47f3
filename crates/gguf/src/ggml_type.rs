//! The ggml tensor types: their names and how many bytes a tensor of each takes.

/// How a ggml tensor type stores its elements: `type_size` bytes for every `block_size` elements.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GgmlType {
    /// The number in a GGUF tensor info (`GGML_TYPE_Q4_K` is 12).
    pub id: u32,
    pub name: &'static str,
    pub block_size: u64,
    pub type_size: u64,
}

const QK_K: u64 = 256;

/// `(id, name, block_size, type_size)`, from ggml's `ggml.h` and `ggml-common.h`.
/// Ids 4, 5, 31–33 and 36–38 are types that were removed from GGUF files.
const TYPES: &[(u32, &str, u64, u64)] = &[
    (0, "F32", 1, 4),
    (1, "F16", 1, 2),
    (2, "Q4_0", 32, 18),
    (3, "Q4_1", 32, 20),
    (6, "Q5_0", 32, 22),
    (7, "Q5_1", 32, 24),
    (8, "Q8_0", 32, 34),
    (9, "Q8_1", 32, 36),
    (10, "Q2_K", QK_K, 84),
    (11, "Q3_K", QK_K, 110),
    (12, "Q4_K", QK_K, 144),
    (13, "Q5_K", QK_K, 176),
    (14, "Q6_K", QK_K, 210),
    (15, "Q8_K", QK_K, 292),
    (16, "IQ2_XXS", QK_K, 66),
    (17, "IQ2_XS", QK_K, 74),
    (18, "IQ3_XXS", QK_K, 98),
    (19, "IQ1_S", QK_K, 50),
    (20, "IQ4_NL", 32, 18),
    (21, "IQ3_S", QK_K, 110),
    (22, "IQ2_S", QK_K, 82),
    (23, "IQ4_XS", QK_K, 136),
    (24, "I8", 1, 1),
    (25, "I16", 1, 2),
    (26, "I32", 1, 4),
    (27, "I64", 1, 8),
    (28, "F64", 1, 8),
    (29, "IQ1_M", QK_K, 56),
    (30, "BF16", 1, 2),
    (34, "TQ1_0", QK_K, 54),
    (35, "TQ2_0", QK_K, 66),
    (39, "MXFP4", 32, 17),
    (40, "NVFP4", 64, 36),
    (41, "Q1_0", 128, 18),
    (42, "Q2_0", 64, 18),
];

impl GgmlType {
    pub const F32: GgmlType = GgmlType {
        id: 0,
        name: "F32",
        block_size: 1,
        type_size: 4,
    };

    pub const F16: GgmlType = GgmlType {
        id: 1,
        name: "F16",
        block_size: 1,
        type_size: 2,
    };

    /// The type with this id, or `None` for an id ggml does not (or no longer) define.
    pub fn from_id(id: u32) -> Option<GgmlType> {
        TYPES
            .iter()
            .find(|(type_id, ..)| *type_id == id)
            .map(|&(id, name, block_size, type_size)| GgmlType {
                id,
                name,
                block_size,
                type_size,
            })
    }

    /// Bytes taken by a tensor of this type with dimensions `dims` (ne0 first), or why it cannot be stored:
    /// ne0 not a multiple of the block size, or a size that overflows `u64`.
    pub fn tensor_bytes(&self, dims: &[u64]) -> Result<u64, String> {
        let Some((&ne0, rest)) = dims.split_first() else {
            return Ok(self.type_size);
        };
        if !ne0.is_multiple_of(self.block_size) {
            return Err(format!(
                "its first dimension {ne0} is not a multiple of the {} block size {}",
                self.name, self.block_size
            ));
        }
        let rows = rest.iter().try_fold(1u64, |acc, &d| acc.checked_mul(d));
        rows.and_then(|rows| (ne0 / self.block_size).checked_mul(self.type_size)?.checked_mul(rows))
            .ok_or_else(|| format!("its size {dims:?} overflows"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_of_common_types() {
        let q4k = GgmlType::from_id(12).expect("Q4_K");
        assert_eq!(q4k.name, "Q4_K");
        assert_eq!(q4k.tensor_bytes(&[4096, 4096]), Ok(4096 * 4096 / 256 * 144));
        assert_eq!(GgmlType::F32.tensor_bytes(&[3, 5]), Ok(60));
        assert!(GgmlType::from_id(8).expect("Q8_0").tensor_bytes(&[33]).is_err());
        assert!(GgmlType::F32.tensor_bytes(&[u64::MAX, 2]).is_err());
        assert_eq!(GgmlType::from_id(4), None);
        assert_eq!(GgmlType::from_id(31), None);
    }
}
