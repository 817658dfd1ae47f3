use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use hypatia_research::{AgentFailure, AgentName, Envelope, FailureKind, Payload};

use crate::{Bus, Delivery};

/// An agent's behaviour: one request in, one reply payload (or failure) out.
/// The runner journals the reply, retries transient failures, turns a panic
/// into a recorded failure, and runs up to `concurrency` requests at once.
pub trait Agent: Send + Sync + 'static {
    fn name(&self) -> AgentName;
    fn handle(
        self: Arc<Self>,
        request: Envelope,
        cancel: CancellationToken,
    ) -> impl Future<Output = Result<Payload, AgentFailure>> + Send + 'static;
}

/// A running agent: its task, and the token that stops it.
pub struct AgentHandle {
    name: AgentName,
    task: JoinHandle<()>,
    cancel: CancellationToken,
}

impl AgentHandle {
    pub fn name(&self) -> AgentName {
        self.name
    }

    /// Stops taking requests, cancels the ones in progress and waits for the task, at most
    /// [`SHUTDOWN_GRACE`].
    pub async fn shutdown(self, bus: &Bus) {
        self.shutdown_within(bus, SHUTDOWN_GRACE).await;
    }

    /// As [`AgentHandle::shutdown`], giving up on a handler that ignores cancellation after `grace`:
    /// shutting down must not hang on one stuck model call.
    pub async fn shutdown_within(mut self, bus: &Bus, grace: Duration) {
        bus.unregister(self.name);
        self.cancel.cancel();
        match tokio::time::timeout(grace, &mut self.task).await {
            Ok(Ok(())) => {}
            Ok(Err(error)) => tracing::error!(agent = %self.name, %error, "agent task ended badly"),
            Err(_) => {
                tracing::warn!(agent = %self.name, ?grace, "agent did not stop after cancellation; abandoning it");
                self.task.abort();
            }
        }
    }
}

/// Transient failures are tried this many times in all before the failure is the reply.
const ATTEMPTS: u32 = 3;

/// How long a shutdown waits for handlers to notice cancellation.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub fn spawn_agent<A: Agent>(bus: &Bus, agent: Arc<A>, concurrency: usize, inbox_capacity: usize) -> AgentHandle {
    let name = agent.name();
    let mut inbox = bus.register(name, inbox_capacity);
    let cancel = CancellationToken::new();
    let stop = cancel.clone();
    let bus = bus.clone();
    let task = tokio::spawn(async move {
        let slots = Arc::new(Semaphore::new(concurrency.max(1)));
        let mut running = tokio::task::JoinSet::new();
        loop {
            let delivery = tokio::select! {
                // Checked first: after shutdown, a queued request is not taken.
                biased;
                _ = stop.cancelled() => break,
                delivery = inbox.recv() => delivery,
            };
            let Some(delivery) = delivery else { break };
            let Ok(slot) = slots.clone().acquire_owned().await else {
                break;
            };
            let (agent, bus, stop) = (agent.clone(), bus.clone(), stop.clone());
            running.spawn(async move {
                answer(agent, &bus, delivery, stop).await;
                drop(slot);
            });
            // Reap finished handlers so the set does not grow with the run.
            while running.try_join_next().is_some() {}
        }
        stop.cancel();
        while running.join_next().await.is_some() {}
    });
    AgentHandle { name, task, cancel }
}

fn cancelled_payload() -> Payload {
    Payload::TaskFailed {
        failure: AgentFailure::new(FailureKind::Cancelled, "cancelled"),
    }
}

async fn answer<A: Agent>(agent: Arc<A>, bus: &Bus, delivery: Delivery, cancel: CancellationToken) {
    let Delivery { envelope, reply } = delivery;
    let name = agent.name();
    // Cancelled when the run is, or when this agent shuts down.
    let run_cancel = bus.run_token(&envelope.run_id).child_token();
    let mut attempt = 1;
    let payload = loop {
        // Its own task, so a panic in the agent becomes a recorded failure.
        let mut handling = tokio::spawn(agent.clone().handle(envelope.clone(), run_cancel.clone()));
        let outcome = tokio::select! {
            outcome = &mut handling => outcome,
            _ = cancel.cancelled() => {
                run_cancel.cancel();
                handling.await
            }
        };
        let result = outcome.unwrap_or_else(|join| {
            Err(AgentFailure::fatal(format!(
                "the {name} agent crashed on message `{}`: {join}",
                envelope.id
            )))
        });
        match result {
            Ok(payload) => break payload,
            Err(failure)
                if failure.kind == FailureKind::Transient && attempt < ATTEMPTS && !run_cancel.is_cancelled() =>
            {
                tracing::info!(agent = %name, id = %envelope.id, attempt, %failure, "transient failure; trying again");
                let back_off = tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt)));
                tokio::select! {
                    () = back_off => {}
                    () = run_cancel.cancelled() => break cancelled_payload(),
                    () = cancel.cancelled() => break cancelled_payload(),
                }
                attempt += 1;
            }
            Err(mut failure) => {
                if attempt > 1 {
                    failure.message = format!("{} (after {attempt} attempts)", failure.message);
                }
                break Payload::TaskFailed { failure };
            }
        }
    };
    let message = envelope.reply(payload);
    if let Payload::TaskFailed { failure } = &message.payload
        && failure.kind == FailureKind::Cancelled
    {
        // Not journaled: the task did not happen, and a resumed run asks for it again.
        let _ = reply.send(message);
        return;
    }
    let delivered = match bus.journal(message.clone()).await {
        Ok(journaled) => journaled,
        // Unjournaled, so it must not look like a result: the requester fails the run.
        Err(error) => envelope.reply(Payload::TaskFailed {
            failure: AgentFailure::fatal(format!("cannot journal the {name} agent's reply: {error}")),
        }),
    };
    // The requester may have given up (cancelled run); nothing to do then.
    let _ = reply.send(delivered);
}
