//! GGUF model files: reading what a model is (architecture, size, quantization, context, chat template)
//! from its header without loading its weights, converting a sentence-transformers BERT folder into
//! an embedding GGUF (`convert/`), and writing a tiny deterministic llama model that llama.cpp loads,
//! for tests.
//!
//! Reading never panics and never allocates more than the file holds, whatever the bytes.

mod atomic;
mod chat_format;
mod convert;
mod cursor;
mod error;
mod file_type;
mod ggml_type;
mod info;
mod read;
mod tiny_model;
mod tiny_vocab;
mod value;
mod write;

pub use chat_format::ChatFormat;
pub use convert::{ConvertError, ConvertSummary, OutputType, convert_sentence_transformers};
pub use error::GgufError;
pub use file_type::file_type_name;
pub use ggml_type::GgmlType;
pub use info::GgufInfo;
pub use read::read_info;
pub use tiny_model::{CHATML_TEMPLATE, TINY_MODEL_NAME, TinyModelSpec, ensure_tiny_model, write_tiny_model};
pub use value::{MetadataValue, ValueType};
pub use write::{ALIGNMENT, GgufWriter, WriteValue, f16_to_f32, f32_to_f16};
