//! A run's journal in the project store: messages encoded as journal entries and read back, and
//! the one way to load a run: read its journal and fold it ([`RunJournal::record`]).

use hypatia_research::{AgentName, Envelope, Payload, RunStatus};
use hypatia_runs::RunRecord;
use hypatia_store::{JournalEntry, Store};

use crate::BusError;

/// An envelope as the store keeps it, and back.
pub trait Journaled: Sized {
    fn to_entry(&self) -> Result<JournalEntry, BusError>;
    /// Reads a journaled message back. A payload this version cannot read is an error naming the
    /// message, never a guess.
    fn from_entry(entry: &JournalEntry) -> Result<Self, BusError>;
}

impl Journaled for Envelope {
    fn to_entry(&self) -> Result<JournalEntry, BusError> {
        Ok(JournalEntry {
            seq: self.seq,
            run_id: self.run_id.clone(),
            id: self.id.clone(),
            parent_id: self.parent_id.clone(),
            sender: self.sender.as_str().to_owned(),
            recipient: self.recipient.as_str().to_owned(),
            kind: self.kind().to_owned(),
            payload: serde_json::to_string(&self.payload).map_err(|error| BusError::Encode(error.to_string()))?,
            time_ms: self.time_ms,
        })
    }

    fn from_entry(entry: &JournalEntry) -> Result<Envelope, BusError> {
        let bad = |detail: String| BusError::BadJournalEntry {
            run_id: entry.run_id.clone(),
            seq: entry.seq,
            detail,
        };
        let payload: Payload = serde_json::from_str(&entry.payload).map_err(|error| bad(error.to_string()))?;
        if payload.kind() != entry.kind {
            return Err(bad(format!(
                "kind `{}` but payload of kind `{}`",
                entry.kind,
                payload.kind()
            )));
        }
        Ok(Envelope {
            id: entry.id.clone(),
            run_id: entry.run_id.clone(),
            parent_id: entry.parent_id.clone(),
            sender: entry.sender.parse().map_err(bad)?,
            recipient: entry.recipient.parse().map_err(bad)?,
            payload,
            time_ms: entry.time_ms,
            seq: entry.seq,
        })
    }
}

/// The journals of a project's runs: what the bus writes through, and what every reader of a
/// stored run (resume, steering, `runs show`, the terminal UI, exports) reads through.
/// Writing here journals without delivering: steering, which the driver reads from the journal.
#[derive(Clone)]
pub struct RunJournal {
    store: Store,
}

impl AsRef<RunJournal> for RunJournal {
    fn as_ref(&self) -> &RunJournal {
        self
    }
}

impl RunJournal {
    pub fn new(store: Store) -> RunJournal {
        RunJournal { store }
    }

    /// The run's messages journaled after `after_seq` (0: all of them), in journal order.
    pub async fn envelopes(&self, run_id: &str, after_seq: i64) -> Result<Vec<Envelope>, BusError> {
        let entries = self.store.run_messages(run_id, after_seq).await?;
        entries.iter().map(Envelope::from_entry).collect()
    }

    /// The run as its whole journal says it is: the only way a stored run is loaded.
    pub async fn record(&self, run_id: &str) -> Result<RunRecord, BusError> {
        let envelopes = self.envelopes(run_id, 0).await?;
        Ok(RunRecord::from_envelopes(run_id, &envelopes))
    }

    /// The user's steering journaled after `after_seq`, and the position read up to. Other
    /// messages are passed over without being decoded: the driver looks often, and replies are large.
    pub async fn steering_after(&self, run_id: &str, after_seq: i64) -> Result<(Vec<Envelope>, i64), BusError> {
        let entries = self.store.run_messages(run_id, after_seq).await?;
        let read_to = entries.last().map_or(after_seq, |entry| entry.seq);
        let mut steering = Vec::new();
        for entry in entries.iter().filter(|entry| entry.sender == AgentName::User.as_str()) {
            let envelope = Envelope::from_entry(entry)?;
            if envelope.payload.is_steering() {
                steering.push(envelope);
            }
        }
        Ok((steering, read_to))
    }

    /// The run's first message: what it was started with.
    pub async fn first(&self, run_id: &str) -> Result<Option<Envelope>, BusError> {
        let entries = self.store.run_messages(run_id, 0).await?;
        entries.first().map(Envelope::from_entry).transpose()
    }

    /// Creates the run with its first message.
    pub async fn create(&self, question: &str, mut first: Envelope) -> Result<Envelope, BusError> {
        first.seq = self.store.create_run(question, &first.to_entry()?).await?;
        Ok(first)
    }

    /// Journals a message.
    pub async fn append(&self, mut envelope: Envelope) -> Result<Envelope, BusError> {
        envelope.seq = self.store.append_message(&envelope.to_entry()?).await?;
        Ok(envelope)
    }

    /// Journals a message and sets the run's status in the same transaction: the message that ends a
    /// run, or one that opens an ended run again (`RunStatus::Running`, no detail).
    pub async fn append_with_status(
        &self,
        mut envelope: Envelope,
        status: RunStatus,
        detail: Option<&str>,
    ) -> Result<Envelope, BusError> {
        let entry = envelope.to_entry()?;
        envelope.seq = self
            .store
            .append_message_with_status(&entry, status.as_str(), detail)
            .await?;
        Ok(envelope)
    }
}
