use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use hypatia_research::{AgentName, Envelope, RunStatus};
use hypatia_store::Store;
use tokio::sync::{broadcast, mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use crate::{BusError, RunJournal};

/// A request in an agent's inbox, with where to send the reply.
#[derive(Debug)]
pub struct Delivery {
    pub envelope: Envelope,
    pub reply: oneshot::Sender<Envelope>,
}

/// The bus: journal, inboxes and the live stream. Cheap to clone.
#[derive(Clone)]
pub struct Bus {
    inner: Arc<Inner>,
}

struct Inner {
    journal: RunJournal,
    inboxes: Mutex<HashMap<AgentName, mpsc::Sender<Delivery>>>,
    events: broadcast::Sender<Envelope>,
    cancels: Mutex<HashMap<String, CancellationToken>>,
    /// Held from a message's insert to its publication, so the stream shows messages in journal order.
    journal_order: tokio::sync::Mutex<()>,
}

/// How many messages a subscriber may fall behind before it misses some.
const STREAM_CAPACITY: usize = 4096;

impl AsRef<RunJournal> for Bus {
    fn as_ref(&self) -> &RunJournal {
        &self.inner.journal
    }
}

impl Bus {
    pub fn new(store: Store) -> Bus {
        let (events, _) = broadcast::channel(STREAM_CAPACITY);
        Bus {
            inner: Arc::new(Inner {
                journal: RunJournal::new(store),
                inboxes: Mutex::new(HashMap::new()),
                events,
                cancels: Mutex::new(HashMap::new()),
                journal_order: tokio::sync::Mutex::new(()),
            }),
        }
    }

    /// The journals the bus writes to: for reading a run back.
    pub fn run_journal(&self) -> &RunJournal {
        &self.inner.journal
    }

    /// Gives `name` a bounded inbox; the agent reads requests from the receiver.
    pub fn register(&self, name: AgentName, capacity: usize) -> mpsc::Receiver<Delivery> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        self.inboxes().insert(name, sender);
        receiver
    }

    /// Closes `name`'s inbox: the agent finishes what it holds and stops.
    pub fn unregister(&self, name: AgentName) {
        self.inboxes().remove(&name);
    }

    /// The live stream of journaled messages. Never slows the agents: a
    /// subscriber that falls behind gets `Lagged` and can re-read the journal.
    pub fn subscribe(&self) -> broadcast::Receiver<Envelope> {
        self.inner.events.subscribe()
    }

    /// Creates the run with its first message.
    pub async fn start_run(&self, question: &str, first: Envelope) -> Result<Envelope, BusError> {
        let _in_order = self.inner.journal_order.lock().await;
        let first = self.inner.journal.create(question, first).await?;
        self.publish(&first);
        Ok(first)
    }

    /// Journals a message, then shows it to subscribers.
    pub async fn journal(&self, envelope: Envelope) -> Result<Envelope, BusError> {
        let _in_order = self.inner.journal_order.lock().await;
        let envelope = self.inner.journal.append(envelope).await?;
        self.publish(&envelope);
        Ok(envelope)
    }

    /// Journals the message that ends a run together with the run's status.
    pub async fn finish_run(&self, last: Envelope, status: RunStatus, detail: &str) -> Result<Envelope, BusError> {
        let _in_order = self.inner.journal_order.lock().await;
        let last = self
            .inner
            .journal
            .append_with_status(last, status, Some(detail))
            .await?;
        self.publish(&last);
        Ok(last)
    }

    /// Journals a message that opens an ended run again (the researcher asked more of it), marking
    /// the run running in the same transaction.
    pub async fn reopen_run(&self, envelope: Envelope) -> Result<Envelope, BusError> {
        let _in_order = self.inner.journal_order.lock().await;
        let envelope = self
            .inner
            .journal
            .append_with_status(envelope, RunStatus::Running, None)
            .await?;
        self.publish(&envelope);
        Ok(envelope)
    }

    /// Sends a request and waits for the reply. The request is journaled
    /// first unless it already is (a request re-sent after a resume); the
    /// reply arrives journaled by the agent that made it.
    pub async fn request(&self, envelope: Envelope, already_journaled: bool) -> Result<Envelope, BusError> {
        let recipient = envelope.recipient;
        // Before journaling: a request to nobody must not sit in the journal unanswered.
        let inbox = self
            .inboxes()
            .get(&recipient)
            .cloned()
            .ok_or_else(|| BusError::NoSuchAgent(recipient.to_string()))?;
        let envelope = if already_journaled {
            self.publish(&envelope);
            envelope
        } else {
            self.journal(envelope).await?
        };
        let id = envelope.id.clone();
        let (reply, answer) = oneshot::channel();
        let stopped = || BusError::AgentStopped {
            agent: recipient.to_string(),
            id: id.clone(),
        };
        inbox.send(Delivery { envelope, reply }).await.map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())
    }

    /// The token that cancels every request of a run in progress.
    pub fn run_token(&self, run_id: &str) -> CancellationToken {
        self.cancels().entry(run_id.to_owned()).or_default().clone()
    }

    /// Cancels a run's requests, those in progress and those still queued,
    /// until the run is opened again.
    pub fn cancel_run(&self, run_id: &str) {
        self.cancels().entry(run_id.to_owned()).or_default().cancel();
    }

    /// Gives a run a fresh cancellation token: a run resumed after `cancel_run` in the same process.
    pub fn open_run(&self, run_id: &str) {
        self.cancels().insert(run_id.to_owned(), CancellationToken::new());
    }

    /// Forgets a run's token once nothing of the run is in flight, so a long-lived bus (the terminal
    /// UI) does not keep one per run it ever drove.
    pub fn close_run(&self, run_id: &str) {
        self.cancels().remove(run_id);
    }

    /// Runs with a cancellation token: open ones, and cancelled ones not yet closed.
    pub fn tracked_runs(&self) -> usize {
        self.cancels().len()
    }

    fn cancels(&self) -> std::sync::MutexGuard<'_, HashMap<String, CancellationToken>> {
        // Only inserts and lookups happen under the lock; a poisoned lock still holds a valid map.
        self.inner
            .cancels
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn publish(&self, envelope: &Envelope) {
        // No subscribers is fine: the journal has it.
        let _ = self.inner.events.send(envelope.clone());
    }

    fn inboxes(&self) -> std::sync::MutexGuard<'_, HashMap<AgentName, mpsc::Sender<Delivery>>> {
        // The map is only ever inserted into or removed from; a poisoned lock still holds a valid map.
        self.inner
            .inboxes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}
