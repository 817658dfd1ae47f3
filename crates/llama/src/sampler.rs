use hypatia_llm::{LlmError, Sampling};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::token::data::LlamaTokenData;
use llama_cpp_2::token::data_array::LlamaTokenDataArray;

/// Candidates kept before top-p, as llama.cpp's own default.
const TOP_K: i32 = 40;

/// Redraws allowed for one token before giving up on keeping the text valid UTF-8.
const MAX_BANNED_PER_TOKEN: usize = 32;

/// One request's sampling: the grammar (when the answer has a schema) kept apart from the rest of the
/// chain, so the common case checks only the drawn token against it instead of masking the whole
/// vocabulary (llama.cpp's `common_sampler` does the same).
pub(crate) struct RequestSampler {
    grammar: Option<LlamaSampler>,
    chain: LlamaSampler,
    constrained: bool,
}

impl RequestSampler {
    pub(crate) fn build(model: &LlamaModel, sampling: &Sampling, grammar: Option<&str>) -> Result<Self, LlmError> {
        let grammar = grammar
            .map(|text| LlamaSampler::grammar(model, text, "root"))
            .transpose()
            .map_err(|error| LlmError::Permanent(format!("llama.cpp rejected the generated grammar: {error}")))?;
        let chain = if sampling.temperature <= 0.0 {
            LlamaSampler::greedy()
        } else {
            LlamaSampler::chain_simple([
                LlamaSampler::top_k(TOP_K),
                LlamaSampler::top_p(sampling.top_p.clamp(0.0, 1.0), 1),
                LlamaSampler::temp(sampling.temperature),
                LlamaSampler::dist(sampling.seed.unwrap_or_else(random_seed)),
            ])
        };
        Ok(RequestSampler {
            constrained: grammar.is_some(),
            grammar,
            chain,
        })
    }

    /// Draws the next token from the logits at `logits_at`, one the grammar allows and `fits` accepts
    /// (the caller's test that the text stays valid), and accepts it into grammar and chain exactly
    /// once. `None` when no allowed token is left: the grammar cannot be continued.
    pub(crate) fn sample(
        &mut self,
        ctx: &LlamaContext<'_>,
        logits_at: i32,
        fits: impl Fn(LlamaToken) -> bool,
    ) -> Option<LlamaToken> {
        let mut candidates = ctx.token_data_array_ith(logits_at);
        self.chain.apply(&mut candidates);
        if let Some(token) = candidates.selected_token()
            && self.grammar_allows(token)
            && fits(token)
        {
            self.accept(token);
            return Some(token);
        }
        // The quick draw was refused: mask the vocabulary with the grammar and draw again, banning
        // tokens that would break the text.
        let mut banned: Vec<LlamaToken> = Vec::new();
        loop {
            let mut candidates = ctx.token_data_array_ith(logits_at);
            for token in &banned {
                // `token_data_array_ith` lists every token in id order.
                if let Some(data) = usize::try_from(token.0)
                    .ok()
                    .and_then(|index| candidates.data.get_mut(index))
                {
                    data.set_logit(f32::NEG_INFINITY);
                }
            }
            if let Some(grammar) = &mut self.grammar {
                grammar.apply(&mut candidates);
            }
            if !candidates.data.iter().any(|data| data.logit().is_finite()) {
                return None;
            }
            self.chain.apply(&mut candidates);
            let token = candidates.selected_token()?;
            if fits(token) || (!self.constrained && banned.len() >= MAX_BANNED_PER_TOKEN) {
                self.accept(token);
                return Some(token);
            }
            if banned.len() >= MAX_BANNED_PER_TOKEN {
                return None;
            }
            banned.push(token);
        }
    }

    fn grammar_allows(&mut self, token: LlamaToken) -> bool {
        let Some(grammar) = &mut self.grammar else {
            return true;
        };
        let mut single = LlamaTokenDataArray::new(vec![LlamaTokenData::new(token, 1.0, 0.0)], false);
        grammar.apply(&mut single);
        single.data.first().is_some_and(|data| data.logit().is_finite())
    }

    fn accept(&mut self, token: LlamaToken) {
        if let Some(grammar) = &mut self.grammar {
            grammar.accept(token);
        }
        self.chain.accept(token);
    }
}

fn random_seed() -> u32 {
    use std::hash::{BuildHasher, RandomState};
    RandomState::new().hash_one(std::time::SystemTime::now()) as u32
}
