//! The engine as built: what llama.cpp reports about its own compilation.

/// ggml's AMX backend segfaults on real K-quant files (Q4_K_M) on AMX CPUs; the build leaves it out
/// (`.cargo/config.toml`). This holds on any CPU: on one without AMX it was never compiled in, and on
/// one with AMX the flags must have kept it out.
#[test]
fn the_engine_is_built_without_the_amx_path_but_with_the_cpus_vector_units() {
    let info = hypatia_llama::system_info().expect("llama.cpp initialises");
    println!("llama.cpp system info: {info}");
    assert!(info.contains("CPU :"), "no CPU backend in: {info}");
    assert!(!info.contains("AMX_INT8 = 1"), "the engine was built with AMX: {info}");
    assert!(!hypatia_llama::uses_amx().expect("system info"));
    // Still built for this CPU (target-cpu=native): the vector units it has are used.
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            assert!(info.contains("AVX2 = 1"), "AVX2 left out: {info}");
        }
        if std::arch::is_x86_feature_detected!("avx512f") {
            assert!(info.contains("AVX512 = 1"), "AVX-512 left out: {info}");
        }
        if std::arch::is_x86_feature_detected!("avx512vnni") {
            assert!(info.contains("AVX512_VNNI = 1"), "AVX-512 VNNI left out: {info}");
        }
    }
}
