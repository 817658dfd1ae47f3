#[derive(Debug, thiserror::Error)]
pub enum BusError {
    #[error("cannot journal message: {0}")]
    Store(#[from] hypatia_store::StoreError),
    #[error("cannot encode a message: {0}")]
    Encode(String),
    #[error("journal of run {run_id}, message {seq}: {detail}")]
    BadJournalEntry { run_id: String, seq: i64, detail: String },
    #[error("no agent `{0}` is running on the bus")]
    NoSuchAgent(String),
    #[error("agent `{agent}` stopped before answering message `{id}`")]
    AgentStopped { agent: String, id: String },
}

impl BusError {
    /// The message id is already journaled: another process wrote the same message first.
    pub fn is_duplicate(&self) -> bool {
        matches!(self, BusError::Store(hypatia_store::StoreError::Duplicate { .. }))
    }
}
