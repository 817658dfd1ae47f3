use sha2::{Digest, Sha256};

/// A task's seed: the run's seed and the task's id, hashed. The same run
/// asks the same question with the same seed however it was scheduled.
pub fn task_seed(run_seed: u64, task_id: &str) -> u64 {
    let digest = Sha256::new()
        .chain_update(run_seed.to_le_bytes())
        .chain_update(task_id.as_bytes())
        .finalize();
    let mut bytes = [0u8; 8];
    bytes.copy_from_slice(&digest[..8]);
    u64::from_le_bytes(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_differ_by_task_and_run_but_repeat() {
        assert_eq!(task_seed(7, "r1.gen.01"), task_seed(7, "r1.gen.01"));
        assert_ne!(task_seed(7, "r1.gen.01"), task_seed(7, "r1.gen.02"));
        assert_ne!(task_seed(7, "r1.gen.01"), task_seed(8, "r1.gen.01"));
    }
}
