//! Driving a run: send ready tasks, fold replies into the record, stop when
//! the rounds are done, a budget is spent, a task fails fatally, or the
//! caller cancels (an interruption: the run can be resumed).

use std::collections::HashSet;
use std::time::{Duration, Instant};

use hypatia_bus::{Bus, BusError, RunJournal};
use hypatia_research::{AgentName, Envelope, FailureKind, Payload, RunSettings, RunStatus};
use hypatia_runs::RunRecord;
use sha2::{Digest, Sha256};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::schedule::{self, Stage, TaskState};

#[derive(Debug, thiserror::Error)]
pub enum DriveError {
    #[error(transparent)]
    Bus(#[from] BusError),
    #[error("there is no run `{0}` in this project (`hypatia runs list` shows them)")]
    NoSuchRun(String),
    #[error("run {0} has no settings in its journal; it cannot be resumed")]
    NoSettings(String),
    #[error("run {0} has already ended ({1})")]
    Ended(String, String),
}

/// How a drive ended.
#[derive(Debug, Clone, PartialEq)]
pub enum RunOutcome {
    /// The run ended (or had already ended) with this status.
    Finished { status: RunStatus, detail: String },
    /// The caller cancelled; the run can be resumed.
    Interrupted,
}

/// A fresh run id: `run-` and 8 hex digits, from the question, the time and the process.
pub fn new_run_id(question: &str) -> String {
    let digest = Sha256::new()
        .chain_update(question.as_bytes())
        .chain_update(hypatia_research::now_ms().to_le_bytes())
        .chain_update(std::process::id().to_le_bytes())
        .chain_update(format!("{:?}", Instant::now()).as_bytes())
        .finalize();
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("run-{hex}")
}

/// Creates a run: its first journaled message holds its settings.
pub async fn start_run(bus: &Bus, run_id: &str, settings: RunSettings) -> Result<(), DriveError> {
    let question = settings.question.clone();
    let first = Envelope::new(
        run_id,
        "start",
        AgentName::User,
        AgentName::Planner,
        Payload::RunStarted { settings },
    );
    bus.start_run(&question, first).await?;
    Ok(())
}

/// Ends a run nobody is driving (stop the drive first) as `cancelled`: the user's request and the
/// end are journaled, and what the run found so far stays. Needs only the journal, not a bus.
pub async fn cancel_run(
    journal: &(impl AsRef<RunJournal> + ?Sized),
    run_id: &str,
    reason: &str,
) -> Result<(), DriveError> {
    let journal = journal.as_ref();
    let record = journal.record(run_id).await?;
    if record.messages == 0 {
        return Err(DriveError::NoSuchRun(run_id.to_owned()));
    }
    if let Some((status, _)) = &record.status {
        return Err(DriveError::Ended(run_id.to_owned(), status.as_str().to_owned()));
    }
    let request = Envelope::new(
        run_id,
        format!("cancel.{}.{}", record.sessions, record.finishes),
        AgentName::User,
        AgentName::Planner,
        Payload::CancelRequested {
            reason: reason.to_owned(),
        },
    );
    journal.append(request).await?;
    let last = Envelope::new(
        run_id,
        record.finish_id(),
        AgentName::Planner,
        AgentName::User,
        Payload::RunFinished {
            status: RunStatus::Cancelled,
            detail: reason.to_owned(),
        },
    );
    journal
        .append_with_status(last, RunStatus::Cancelled, Some(reason))
        .await?;
    Ok(())
}

/// Works on a run until it ends or `cancel` fires. Resuming is the same
/// call: the journal says what is done, and what was sent but not answered
/// is sent again (not journaled again).
pub async fn drive(bus: &Bus, run_id: &str, cancel: CancellationToken) -> Result<RunOutcome, DriveError> {
    let mut record = bus.run_journal().record(run_id).await?;
    if record.messages == 0 {
        return Err(DriveError::NoSuchRun(run_id.to_owned()));
    }
    let seen_seq = record.last_seq;
    if let Some((status, detail)) = &record.status {
        return Ok(RunOutcome::Finished {
            status: *status,
            detail: detail.clone(),
        });
    }
    let settings = record
        .settings
        .clone()
        .ok_or_else(|| DriveError::NoSettings(run_id.to_owned()))?;
    // A run cancelled earlier in this process (an interrupted drive) works again.
    bus.open_run(run_id);
    let session = Envelope::new(
        run_id,
        format!("session.{}", record.sessions + 1),
        AgentName::User,
        AgentName::Planner,
        Payload::SessionStarted {
            resumed: record.sessions > 0,
        },
    );
    record.apply(&bus.journal(session).await?);

    let mut driver = Driver {
        bus: bus.clone(),
        run_id: run_id.to_owned(),
        settings,
        record,
        in_flight: JoinSet::new(),
        in_flight_ids: HashSet::new(),
        seen_seq,
    };
    let outcome = driver.run(cancel).await;
    // Nothing of the run is in flight any more: a long-lived bus need not keep its token.
    bus.close_run(run_id);
    outcome
}

struct Driver {
    bus: Bus,
    run_id: String,
    settings: RunSettings,
    record: RunRecord,
    in_flight: JoinSet<Result<Envelope, BusError>>,
    in_flight_ids: HashSet<String>,
    /// The journal is read for steering after this message.
    seen_seq: i64,
}

/// How often the journal is read for the researcher's steering, written by this process or another.
const STEERING_POLL: Duration = Duration::from_millis(250);

enum Stop {
    Finish(RunStatus, String),
    Interrupt,
}

impl Driver {
    async fn run(&mut self, cancel: CancellationToken) -> Result<RunOutcome, DriveError> {
        let budget = self.settings.budget.clone();
        let deadline = budget.minutes.map(|minutes| {
            let left_ms = (minutes * 60_000.0) as i64 - self.record.elapsed_ms();
            tokio::time::Instant::now() + Duration::from_millis(left_ms.max(0) as u64)
        });
        let mut steering = tokio::time::interval(STEERING_POLL);
        steering.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let stop = 'schedule: loop {
            // Round markers do not change what is scheduled, so one graph serves both.
            let graph = schedule::build(&self.record, &self.settings);
            self.journal_finished_rounds(&graph).await?;
            if let Some(stop) = self.check_token_budget() {
                break stop;
            }
            // Sent before an interruption and never answered: send again.
            for node in graph.graph.node_weights() {
                if node.state == TaskState::Sent && !self.in_flight_ids.contains(&node.id) {
                    self.send(node.request.clone(), true);
                }
            }
            let mut budget_stop = None;
            for node in graph.ready() {
                if node.stage != Stage::Retrieve
                    && let Some(limit) = budget.model_calls
                    && self.model_calls_sent() >= limit
                {
                    budget_stop = Some(format!("the model-call budget ({limit} calls) is spent"));
                    break;
                }
                let journaled = self.bus.journal(node.request.clone()).await?;
                self.record.apply(&journaled);
                self.send(journaled, true);
            }
            if self.in_flight.is_empty() {
                // Steering written just now may still give the run more to do.
                if budget_stop.is_none() && self.read_steering().await? {
                    continue;
                }
                break match budget_stop {
                    Some(reason) => Stop::Finish(RunStatus::BudgetExhausted, reason),
                    None => self.conclusion(&graph),
                };
            }
            // Waits for a reply; the task graph is rebuilt only when a reply or steering changed the record.
            let joined = loop {
                tokio::select! {
                    joined = self.in_flight.join_next() => break joined,
                    _ = cancel.cancelled() => break 'schedule Stop::Interrupt,
                    _ = steering.tick() => {
                        if self.read_steering().await? {
                            continue 'schedule;
                        }
                    }
                    _ = sleep_until(deadline) => break 'schedule Stop::Finish(
                        RunStatus::BudgetExhausted,
                        format!("the time budget ({} min) is spent", budget.minutes.unwrap_or_default()),
                    ),
                }
            };
            let Some(joined) = joined else { continue };
            let reply = match joined {
                Ok(Ok(reply)) => reply,
                Ok(Err(error)) => break Stop::Finish(RunStatus::Failed, format!("the bus failed: {error}")),
                Err(join) => break Stop::Finish(RunStatus::Failed, format!("a request task crashed: {join}")),
            };
            if let Some(parent) = &reply.parent_id {
                self.in_flight_ids.remove(parent);
            }
            if let Payload::TaskFailed { failure } = &reply.payload {
                match failure.kind {
                    // Not journaled: a cancelled task is sent again when the run resumes.
                    FailureKind::Cancelled => continue,
                    FailureKind::Fatal => {
                        self.record.apply(&reply);
                        break Stop::Finish(
                            RunStatus::Failed,
                            format!(
                                "the {} agent failed on task `{}`: {}",
                                reply.sender,
                                reply.parent_id.as_deref().unwrap_or("?"),
                                failure.message
                            ),
                        );
                    }
                    FailureKind::Task | FailureKind::Transient => {
                        tracing::info!(run = %self.run_id, task = ?reply.parent_id, %failure, "task skipped");
                    }
                }
            }
            self.record.apply(&reply);
        };
        match stop {
            Stop::Interrupt => {
                self.drain().await;
                Ok(RunOutcome::Interrupted)
            }
            Stop::Finish(status, detail) => {
                self.drain().await;
                let last = Envelope::new(
                    &self.run_id,
                    self.record.finish_id(),
                    AgentName::Planner,
                    AgentName::User,
                    Payload::RunFinished {
                        status,
                        detail: detail.clone(),
                    },
                );
                self.bus.finish_run(last, status, &detail).await?;
                Ok(RunOutcome::Finished { status, detail })
            }
        }
    }

    fn send(&mut self, request: Envelope, already_journaled: bool) {
        self.in_flight_ids.insert(request.id.clone());
        let bus = self.bus.clone();
        self.in_flight
            .spawn(async move { bus.request(request, already_journaled).await });
    }

    /// Cancels what is in flight and waits for it: replies that arrive
    /// finished are kept (journaled by their agents), cancelled ones are not.
    async fn drain(&mut self) {
        if self.in_flight.is_empty() {
            return;
        }
        self.bus.cancel_run(&self.run_id);
        while let Some(joined) = self.in_flight.join_next().await {
            if let Ok(Ok(reply)) = joined
                && !matches!(&reply.payload, Payload::TaskFailed { failure } if failure.kind == FailureKind::Cancelled)
            {
                self.record.apply(&reply);
            }
        }
    }

    /// Folds in the steering journaled since the last look; true if there was any.
    async fn read_steering(&mut self) -> Result<bool, DriveError> {
        let (steering, read_to) = self
            .bus
            .run_journal()
            .steering_after(&self.run_id, self.seen_seq)
            .await?;
        self.seen_seq = self.seen_seq.max(read_to);
        for envelope in &steering {
            tracing::info!(run = %self.run_id, id = %envelope.id, kind = envelope.payload.kind(), "steered");
            self.record.apply(envelope);
        }
        Ok(!steering.is_empty())
    }

    fn model_calls_sent(&self) -> u64 {
        self.record.requests.values().map(|r| r.payload.model_calls()).sum()
    }

    fn check_token_budget(&self) -> Option<Stop> {
        let limit = self.settings.budget.tokens?;
        let used = self.record.usage.tokens();
        (used >= limit).then(|| {
            Stop::Finish(
                RunStatus::BudgetExhausted,
                format!("the token budget ({limit} tokens) is spent: {used} used"),
            )
        })
    }

    /// Journals the ratings after each round whose tournament is over.
    async fn journal_finished_rounds(&mut self, graph: &schedule::TaskGraph) -> Result<(), DriveError> {
        for round in 1..=self.record.rounds() {
            if self.record.rounds_finished.contains_key(&round) {
                continue;
            }
            let judges: Vec<_> = graph
                .graph
                .node_weights()
                .filter(|n| n.stage == Stage::Tournament(round))
                .collect();
            // A round is over once its tournament is, or once the next round has begun without one.
            let next_started = graph.graph.node_weights().any(|n| n.stage == Stage::Revise(round + 1));
            let over = (!judges.is_empty() && judges.iter().all(|n| n.state.is_terminal())) || next_started;
            if !over {
                break;
            }
            let mut ratings: Vec<(String, f64)> = self.record.ratings_through(round).into_iter().collect();
            ratings.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            let message = Envelope::new(
                &self.run_id,
                format!("round.{round}"),
                AgentName::Planner,
                AgentName::User,
                Payload::RoundFinished { round, ratings },
            );
            self.record.apply(&self.bus.journal(message).await?);
        }
        Ok(())
    }

    /// Nothing left to send or wait for: how did the run end?
    fn conclusion(&self, graph: &schedule::TaskGraph) -> Stop {
        let record = &self.record;
        let failure_of = |task: &str| {
            record
                .failures
                .iter()
                .find(|f| f.task == task)
                .map(|f| f.message.clone())
                .unwrap_or_default()
        };
        if graph.node("retrieve").is_some_and(|n| n.state == TaskState::Failed) {
            return Stop::Finish(
                RunStatus::Failed,
                format!("retrieval failed: {}", failure_of("retrieve")),
            );
        }
        if record.evidence.as_ref().is_some_and(Vec::is_empty) {
            let mut detail =
                "no evidence: no passage in the index matches the question or the plan's queries".to_owned();
            if !record.skipped_queries.is_empty() {
                let reasons: Vec<String> = record
                    .skipped_queries
                    .iter()
                    .map(|s| format!("`{}`: {}", s.query, s.reason))
                    .collect();
                detail.push_str(&format!(" ({})", reasons.join("; ")));
            }
            return Stop::Finish(RunStatus::Failed, detail);
        }
        if record.hypotheses.is_empty() {
            let reasons: Vec<&str> = record.failures.iter().map(|f| f.message.as_str()).take(3).collect();
            return Stop::Finish(
                RunStatus::Failed,
                format!("no hypothesis could be composed: {}", reasons.join("; ")),
            );
        }
        let skipped = record.failures.len();
        let rounds = record.rounds();
        let mut detail = format!(
            "{} round{} done: {} hypotheses, {} reviews, {} matches",
            rounds,
            if rounds == 1 { "" } else { "s" },
            record.hypotheses.len(),
            record.reviews.len(),
            record.matches.len()
        );
        if skipped > 0 {
            detail.push_str(&format!(
                "; {skipped} task{} skipped",
                if skipped == 1 { "" } else { "s" }
            ));
        }
        Stop::Finish(RunStatus::Completed, detail)
    }
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(deadline) => tokio::time::sleep_until(deadline).await,
        None => std::future::pending().await,
    }
}
