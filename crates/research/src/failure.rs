use serde::{Deserialize, Serialize};

/// How an agent's failure should be treated by whoever asked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// Worth trying again later (a busy server, a timeout).
    Transient,
    /// This task cannot succeed as asked (an answer that never validated, a
    /// prompt too long); the run can go on without it.
    Task,
    /// The agent itself is broken (a bug, a lost model); the run fails.
    Fatal,
    /// Someone cancelled the run.
    Cancelled,
}

/// Why an agent could not do what it was asked: journaled as the reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[error("{message}")]
pub struct AgentFailure {
    pub kind: FailureKind,
    pub message: String,
}

impl AgentFailure {
    pub fn new(kind: FailureKind, message: impl Into<String>) -> Self {
        AgentFailure {
            kind,
            message: message.into(),
        }
    }

    pub fn task(message: impl Into<String>) -> Self {
        AgentFailure::new(FailureKind::Task, message)
    }

    pub fn fatal(message: impl Into<String>) -> Self {
        AgentFailure::new(FailureKind::Fatal, message)
    }
}
