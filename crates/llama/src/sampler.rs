use hypatia_llm::{LlmError, Sampling};
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;

/// Candidates kept before top-p, as llama.cpp's own default.
const TOP_K: i32 = 40;

/// The sampler chain for one request. The grammar comes first so the other samplers only see tokens
/// the grammar allows. `LlamaSampler::sample` both picks and accepts a token: callers must not call
/// `accept` again, or the grammar advances twice.
pub(crate) fn build(model: &LlamaModel, sampling: &Sampling, grammar: Option<&str>) -> Result<LlamaSampler, LlmError> {
    let mut chain = Vec::with_capacity(5);
    if let Some(grammar) = grammar {
        let constrained = LlamaSampler::grammar(model, grammar, "root")
            .map_err(|error| LlmError::Permanent(format!("llama.cpp rejected the generated grammar: {error}")))?;
        chain.push(constrained);
    }
    if sampling.temperature <= 0.0 {
        chain.push(LlamaSampler::greedy());
    } else {
        chain.push(LlamaSampler::top_k(TOP_K));
        chain.push(LlamaSampler::top_p(sampling.top_p.clamp(0.0, 1.0), 1));
        chain.push(LlamaSampler::temp(sampling.temperature));
        chain.push(LlamaSampler::dist(sampling.seed.unwrap_or_else(random_seed)));
    }
    Ok(LlamaSampler::chain_simple(chain))
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
