use llama_cpp_2::token::LlamaToken;

/// A finished request's tokens, kept in the KV cache under its sequence id so that a later request
/// starting the same way (system prompt, evidence, earlier turns) skips recomputing them.
#[derive(Debug)]
pub(crate) struct CachedSequence {
    pub seq: i32,
    pub tokens: Vec<LlamaToken>,
    pub last_used: u64,
}

/// Length of the common prefix of two token lists.
pub(crate) fn common_prefix(a: &[LlamaToken], b: &[LlamaToken]) -> usize {
    a.iter().zip(b).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn common_prefix_counts_equal_leading_tokens() {
        let t = |ids: &[i32]| ids.iter().map(|&id| LlamaToken(id)).collect::<Vec<_>>();
        assert_eq!(common_prefix(&t(&[1, 2, 3]), &t(&[1, 2, 4])), 2);
        assert_eq!(common_prefix(&t(&[1, 2]), &t(&[1, 2, 3])), 2);
        assert_eq!(common_prefix(&t(&[]), &t(&[1])), 0);
    }
}
