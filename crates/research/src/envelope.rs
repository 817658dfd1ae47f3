use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::payload::Payload;

/// Who sends and receives messages. `User` is the person (or the CLI acting
/// for them): starting, resuming and steering runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AgentName {
    User,
    Planner,
    Retriever,
    Hypothesis,
    Reviewer,
}

impl AgentName {
    pub const ALL: [AgentName; 5] = [
        AgentName::User,
        AgentName::Planner,
        AgentName::Retriever,
        AgentName::Hypothesis,
        AgentName::Reviewer,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            AgentName::User => "user",
            AgentName::Planner => "planner",
            AgentName::Retriever => "retriever",
            AgentName::Hypothesis => "hypothesis",
            AgentName::Reviewer => "reviewer",
        }
    }
}

impl fmt::Display for AgentName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AgentName {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        AgentName::ALL
            .into_iter()
            .find(|name| name.as_str() == text)
            .ok_or_else(|| format!("`{text}` is not an agent"))
    }
}

/// One message on the bus. Ids are unique within a run and chosen by the
/// sender from what the message is for (a task id), so the same run gives
/// the same ids however often it is interrupted and resumed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Envelope {
    pub id: String,
    pub run_id: String,
    pub parent_id: Option<String>,
    pub sender: AgentName,
    pub recipient: AgentName,
    pub payload: Payload,
    /// Milliseconds since the Unix epoch.
    pub time_ms: i64,
    /// Journal order; 0 until journaled.
    pub seq: i64,
}

impl Envelope {
    pub fn new(run_id: &str, id: impl Into<String>, sender: AgentName, recipient: AgentName, payload: Payload) -> Self {
        Envelope {
            id: id.into(),
            run_id: run_id.to_owned(),
            parent_id: None,
            sender,
            recipient,
            payload,
            time_ms: now_ms(),
            seq: 0,
        }
    }

    pub fn with_parent(mut self, parent: impl Into<String>) -> Self {
        self.parent_id = Some(parent.into());
        self
    }

    /// The reply to this message: from its recipient, back to its sender.
    pub fn reply(&self, payload: Payload) -> Envelope {
        Envelope::new(
            &self.run_id,
            format!("{}/reply", self.id),
            self.recipient,
            self.sender,
            payload,
        )
        .with_parent(self.id.clone())
    }

    pub fn kind(&self) -> &'static str {
        self.payload.kind()
    }
}

pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|elapsed| elapsed.as_millis() as i64)
        .unwrap_or(0)
}
