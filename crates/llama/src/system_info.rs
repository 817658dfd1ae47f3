//! What the compiled llama.cpp reports about itself: the CPU features its kernels were built with.

use std::ffi::CStr;

use hypatia_llm::LlmError;

/// llama.cpp's system-info line, e.g. `CPU : SSE3 = 1 | AVX2 = 1 | AVX512 = 1 | … | REPACK = 1 |`.
/// A feature is listed only when the engine was compiled with it.
pub fn system_info() -> Result<String, LlmError> {
    // The CPU backend registers itself when the backend is initialised.
    crate::engine::backend()?;
    Ok(read_system_info())
}

/// True when the engine was built with ggml's AMX backend, whose K-quant repack path crashes on real
/// Q4_K_M files (see `.cargo/config.toml`). Hypatia's build leaves it out; a test holds it to that.
pub fn uses_amx() -> Result<bool, LlmError> {
    Ok(system_info()?.contains("AMX_INT8 = 1"))
}

// The one call into llama.cpp that llama-cpp-2 does not wrap.
#[allow(unsafe_code)]
fn read_system_info() -> String {
    // SAFETY: `llama_print_system_info` takes no arguments and returns a pointer to a NUL-terminated
    // string in a static buffer that stays valid until its next call; it is copied at once.
    let text = unsafe { CStr::from_ptr(llama_cpp_sys_2::llama_print_system_info()) };
    text.to_string_lossy().into_owned()
}
