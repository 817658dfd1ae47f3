//! The bus's promises, tested through its public API on a real store:
//! journal before delivery, replies journaled by the agent, subscribers that
//! see the journal and never slow it, failures that become replies (never
//! hangs), and a journal that refuses what it cannot hold.

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use hypatia_bus::{Agent, Bus, BusError, Journaled, spawn_agent};
use hypatia_research::{AgentFailure, AgentName, Envelope, FailureKind, Payload};
use hypatia_store::{JournalEntry, Store, StoreError};
use tokio::sync::{broadcast, mpsc};
use tokio_util::sync::CancellationToken;

/// Long enough for a slow CI machine, short enough that a hang fails the test.
const LIMIT: Duration = Duration::from_secs(30);

async fn within<F: Future>(what: &str, future: F) -> F::Output {
    tokio::time::timeout(LIMIT, future)
        .await
        .unwrap_or_else(|_| panic!("{what} did not finish within {LIMIT:?}: the bus hung"))
}

/// A bus and the store under it, which the tests read (and write) behind the bus's back.
#[derive(Clone)]
struct TestBus {
    bus: Bus,
    store: Store,
}

impl std::ops::Deref for TestBus {
    type Target = Bus;
    fn deref(&self) -> &Bus {
        &self.bus
    }
}

impl TestBus {
    fn store(&self) -> &Store {
        &self.store
    }
}

async fn open_bus() -> (tempfile::TempDir, TestBus) {
    let dir = tempfile::tempdir().expect("a temp dir for the store");
    let store = Store::open(&dir.path().join("project.db"))
        .await
        .expect("opening a fresh store");
    let bus = Bus::new(store.clone());
    (dir, TestBus { bus, store })
}

async fn start(bus: &Bus, run: &str) -> Envelope {
    let first = Envelope::new(
        run,
        "session",
        AgentName::User,
        AgentName::Planner,
        Payload::SessionStarted { resumed: false },
    );
    bus.start_run("what helps?", first).await.expect("starting the run")
}

fn retrieve(run: &str, id: &str) -> Envelope {
    Envelope::new(
        run,
        id,
        AgentName::Planner,
        AgentName::Retriever,
        Payload::RetrieveRequest {
            queries: vec![format!("query for {id}")],
            limit: 5,
        },
    )
}

fn evidence() -> Payload {
    Payload::EvidenceReady {
        evidence: vec![],
        skipped: vec![],
    }
}

async fn journal(bus: &TestBus, run: &str) -> Vec<Envelope> {
    bus.store()
        .run_messages(run, 0)
        .await
        .expect("reading the journal")
        .iter()
        .map(|entry| Envelope::from_entry(entry).expect("a journal entry the bus can read"))
        .collect()
}

fn ids(envelopes: &[Envelope]) -> Vec<&str> {
    envelopes.iter().map(|envelope| envelope.id.as_str()).collect()
}

fn failure(reply: &Envelope) -> &AgentFailure {
    match &reply.payload {
        Payload::TaskFailed { failure } => failure,
        other => panic!("expected a failure reply, got {other:?}"),
    }
}

/// Replies at once.
struct Echo;

impl Agent for Echo {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, _request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        Ok(evidence())
    }
}

/// Reads the journal when it is handed a request, and notes what it found.
struct Inspector {
    store: Store,
    seen: Mutex<Vec<(Envelope, Vec<JournalEntry>)>>,
}

impl Agent for Inspector {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        let journal = self
            .store
            .run_messages(&request.run_id, 0)
            .await
            .map_err(|error| AgentFailure::fatal(error.to_string()))?;
        self.seen
            .lock()
            .expect("the inspector's notes")
            .push((request, journal));
        Ok(evidence())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_journaled_before_the_agent_sees_it_and_its_reply_after() {
    let (_dir, bus) = open_bus().await;
    let first = start(&bus, "run-1").await;
    let inspector = Arc::new(Inspector {
        store: bus.store().clone(),
        seen: Mutex::new(Vec::new()),
    });
    let agent = spawn_agent(&bus, inspector.clone(), 1, 8);

    let reply = within("the request", bus.request(retrieve("run-1", "task-1"), false))
        .await
        .expect("a reply");

    let seen = inspector.seen.lock().expect("the inspector's notes").clone();
    assert_eq!(seen.len(), 1, "the agent handled the request exactly once");
    let (delivered, journal_then) = &seen[0];
    // What the agent was handed is what the journal holds, seq included.
    assert!(
        delivered.seq > first.seq,
        "the delivered request carries its journal seq: {delivered:?}"
    );
    let journaled: Vec<Envelope> = journal_then
        .iter()
        .map(|entry| Envelope::from_entry(entry).expect("readable"))
        .collect();
    assert_eq!(ids(&journaled), ["session", "task-1"], "journal when the agent ran");
    assert_eq!(
        &journaled[1], delivered,
        "the request was journaled as delivered, before delivery"
    );

    // The reply: from the agent, back to the requester, named after the request, journaled.
    assert_eq!(reply.id, "task-1/reply");
    assert_eq!(reply.parent_id.as_deref(), Some("task-1"));
    assert_eq!(
        (reply.sender, reply.recipient),
        (AgentName::Retriever, AgentName::Planner)
    );
    assert_eq!(reply.payload, evidence());
    assert!(
        reply.seq > delivered.seq,
        "the reply is journaled after the request: {reply:?}"
    );
    let now = journal(&bus, "run-1").await;
    assert_eq!(ids(&now), ["session", "task-1", "task-1/reply"]);
    assert_eq!(now[2], reply, "the requester gets exactly what was journaled");

    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_sees_every_journaled_message_in_journal_order() {
    let (_dir, bus) = open_bus().await;
    let mut stream = bus.subscribe();
    start(&bus, "run-1").await;
    let agent = spawn_agent(&bus, Arc::new(Echo), 1, 8);
    for i in 0..50 {
        within("a request", bus.request(retrieve("run-1", &format!("task-{i}")), false))
            .await
            .expect("a reply");
    }
    // A message journaled directly (not a request) is shown too.
    bus.journal(Envelope::new(
        "run-1",
        "note",
        AgentName::Planner,
        AgentName::User,
        Payload::RoundFinished {
            round: 1,
            ratings: vec![],
        },
    ))
    .await
    .expect("journaling a note");

    let journaled = journal(&bus, "run-1").await;
    assert_eq!(journaled.len(), 1 + 2 * 50 + 1);
    let mut streamed = Vec::new();
    for _ in 0..journaled.len() {
        streamed.push(within("the stream", stream.recv()).await.expect("no lag at this size"));
    }
    assert_eq!(
        streamed, journaled,
        "the stream is the journal, message for message, in order"
    );
    assert!(
        matches!(stream.try_recv(), Err(broadcast::error::TryRecvError::Empty)),
        "nothing is streamed that was not journaled"
    );
    within("shutdown", agent.shutdown(&bus)).await;
}

/// Sends `count` requests from `requesters` tasks at once; ids are unique.
async fn flood(bus: &Bus, run: &str, requesters: usize, count: usize) {
    let mut tasks = tokio::task::JoinSet::new();
    for requester in 0..requesters {
        let (bus, run) = (bus.clone(), run.to_owned());
        tasks.spawn(async move {
            for i in (requester..count).step_by(requesters) {
                let reply = bus
                    .request(retrieve(&run, &format!("task-{i}")), false)
                    .await
                    .expect("a reply");
                assert_eq!(reply.payload, evidence());
            }
        });
    }
    while let Some(done) = tasks.join_next().await {
        done.expect("a requester panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_reach_a_subscriber_once_each() {
    let (_dir, bus) = open_bus().await;
    let mut stream = bus.subscribe();
    start(&bus, "run-1").await;
    let agent = spawn_agent(&bus, Arc::new(Echo), 4, 64);
    within("500 concurrent requests", flood(&bus, "run-1", 8, 500)).await;

    let journaled = journal(&bus, "run-1").await;
    assert_eq!(journaled.len(), 1 + 2 * 500);
    let mut streamed = Vec::new();
    while let Ok(envelope) = stream.try_recv() {
        streamed.push(envelope);
    }
    assert_eq!(
        streamed.len(),
        journaled.len(),
        "one stream message per journaled message"
    );
    let streamed_ids: HashSet<&str> = streamed.iter().map(|envelope| envelope.id.as_str()).collect();
    let journaled_ids: HashSet<&str> = journaled.iter().map(|envelope| envelope.id.as_str()).collect();
    assert_eq!(streamed_ids, journaled_ids);
    // Every streamed message is the journaled one, seq included.
    let mut by_seq = streamed.clone();
    by_seq.sort_by_key(|envelope| envelope.seq);
    assert_eq!(by_seq, journaled);
    within("shutdown", agent.shutdown(&bus)).await;
}

/// The stream is the journal in order, even with concurrent writers.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_requests_reach_a_subscriber_in_journal_order() {
    let (_dir, bus) = open_bus().await;
    let mut stream = bus.subscribe();
    start(&bus, "run-1").await;
    let agent = spawn_agent(&bus, Arc::new(Echo), 4, 64);
    within("2000 concurrent requests", flood(&bus, "run-1", 8, 2000)).await;
    let mut seqs = Vec::new();
    while let Ok(envelope) = stream.try_recv() {
        seqs.push(envelope.seq);
    }
    assert_eq!(seqs.len(), 1 + 2 * 2000);
    let out_of_order = seqs.windows(2).filter(|pair| pair[0] >= pair[1]).count();
    assert_eq!(out_of_order, 0, "stream messages out of journal order");
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_never_reads_does_not_block_the_agents() {
    let (_dir, bus) = open_bus().await;
    let mut idle = bus.subscribe();
    start(&bus, "run-1").await;
    let agent = spawn_agent(&bus, Arc::new(Echo), 4, 64);
    const REQUESTS: usize = 10_000;
    within(
        "10,000 requests with an idle subscriber",
        flood(&bus, "run-1", 8, REQUESTS),
    )
    .await;
    let total = 1 + 2 * REQUESTS;
    assert_eq!(
        bus.store()
            .run("run-1")
            .await
            .expect("the run")
            .expect("exists")
            .messages,
        total as i64
    );

    // The idle subscriber missed messages (it was not waited for), is told
    // how many, and then reads the rest: nothing lost without notice.
    let skipped = match idle.try_recv() {
        Err(broadcast::error::TryRecvError::Lagged(skipped)) => skipped as usize,
        other => panic!("an idle subscriber should have lagged, got {other:?}"),
    };
    let mut rest = Vec::new();
    while let Ok(envelope) = idle.try_recv() {
        rest.push(envelope);
    }
    assert!(skipped > 0 && !rest.is_empty());
    assert_eq!(skipped + rest.len(), total, "skipped + received = journaled");
    let mut seqs: Vec<i64> = rest.iter().map(|envelope| envelope.seq).collect();
    seqs.sort_unstable();
    let journaled = journal(&bus, "run-1").await;
    let newest: Vec<i64> = journaled[total - rest.len()..]
        .iter()
        .map(|envelope| envelope.seq)
        .collect();
    assert_eq!(seqs, newest, "what it still gets is the newest of the journal");
    within("shutdown", agent.shutdown(&bus)).await;
}

/// Panics on every request.
struct Crasher {
    calls: AtomicU32,
}

impl Agent for Crasher {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        panic!("the test agent panics on {}", request.id);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_panicking_agent_gives_a_journaled_fatal_failure_not_a_hang() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let crasher = Arc::new(Crasher {
        calls: AtomicU32::new(0),
    });
    let agent = spawn_agent(&bus, crasher.clone(), 1, 8);

    let reply = within(
        "a request to a panicking agent",
        bus.request(retrieve("run-1", "task-1"), false),
    )
    .await
    .expect("a failure reply, not a bus error");
    let failed = failure(&reply);
    assert_eq!(failed.kind, FailureKind::Fatal);
    assert!(
        failed.message.contains("retriever"),
        "names the agent: {}",
        failed.message
    );
    assert!(
        failed.message.contains("task-1"),
        "names the message: {}",
        failed.message
    );
    assert_eq!(reply.parent_id.as_deref(), Some("task-1"));
    assert!(reply.seq > 0, "the failure is journaled");
    let journaled = journal(&bus, "run-1").await;
    assert_eq!(ids(&journaled), ["session", "task-1", "task-1/reply"]);
    assert_eq!(journaled[2], reply);
    assert_eq!(crasher.calls.load(Ordering::SeqCst), 1, "a panic is not retried");

    // The runner survives its agent's panic and answers the next request.
    let again = within("a second request", bus.request(retrieve("run-1", "task-2"), false))
        .await
        .expect("a reply");
    assert_eq!(failure(&again).kind, FailureKind::Fatal);
    within("shutdown", agent.shutdown(&bus)).await;
}

/// Fails with `kind` until it has been called `succeed_on` times (0: never succeeds).
struct Flaky {
    kind: FailureKind,
    succeed_on: u32,
    calls: AtomicU32,
}

impl Agent for Flaky {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, _request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        if call == self.succeed_on {
            Ok(evidence())
        } else {
            Err(AgentFailure::new(self.kind, format!("failure {call}")))
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_transient_failure_is_retried_and_only_the_success_is_journaled() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let flaky = Arc::new(Flaky {
        kind: FailureKind::Transient,
        succeed_on: 3,
        calls: AtomicU32::new(0),
    });
    let agent = spawn_agent(&bus, flaky.clone(), 1, 8);
    let reply = within("a retried request", bus.request(retrieve("run-1", "task-1"), false))
        .await
        .expect("a reply");
    assert_eq!(reply.payload, evidence(), "third time lucky");
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3, "two failures, then the success");
    assert_eq!(
        ids(&journal(&bus, "run-1").await),
        ["session", "task-1", "task-1/reply"]
    );
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_give_up_after_three_attempts() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let flaky = Arc::new(Flaky {
        kind: FailureKind::Transient,
        succeed_on: 0,
        calls: AtomicU32::new(0),
    });
    let agent = spawn_agent(&bus, flaky.clone(), 1, 8);
    let reply = within("a failing request", bus.request(retrieve("run-1", "task-1"), false))
        .await
        .expect("a reply");
    let failed = failure(&reply);
    assert_eq!(failed.kind, FailureKind::Transient);
    assert!(failed.message.contains("after 3 attempts"), "{}", failed.message);
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 3);
    let journaled = journal(&bus, "run-1").await;
    assert_eq!(
        journaled.last(),
        Some(&reply),
        "the last failure is the journaled reply"
    );
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn task_and_fatal_failures_are_not_retried() {
    for kind in [FailureKind::Task, FailureKind::Fatal] {
        let (_dir, bus) = open_bus().await;
        start(&bus, "run-1").await;
        let flaky = Arc::new(Flaky {
            kind,
            succeed_on: 2,
            calls: AtomicU32::new(0),
        });
        let agent = spawn_agent(&bus, flaky.clone(), 1, 8);
        let reply = within("a failing request", bus.request(retrieve("run-1", "task-1"), false))
            .await
            .expect("a reply");
        assert_eq!(failure(&reply).kind, kind);
        assert_eq!(flaky.calls.load(Ordering::SeqCst), 1, "{kind:?} is tried once");
        assert!(reply.seq > 0, "{kind:?} is journaled");
        within("shutdown", agent.shutdown(&bus)).await;
    }
}

/// Waits for its cancel token on requests whose first query is "wait"
/// (saying when it starts waiting); answers the others at once.
struct Waiter {
    started: mpsc::UnboundedSender<String>,
}

impl Agent for Waiter {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, request: Envelope, cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        let waits = matches!(&request.payload, Payload::RetrieveRequest { queries, .. } if queries[0] == "wait");
        if !waits {
            return Ok(evidence());
        }
        let _ = self.started.send(request.id.clone());
        cancel.cancelled().await;
        Err(AgentFailure::new(FailureKind::Cancelled, "cancelled"))
    }
}

fn waiting(run: &str, id: &str) -> Envelope {
    Envelope::new(
        run,
        id,
        AgentName::Planner,
        AgentName::Retriever,
        Payload::RetrieveRequest {
            queries: vec!["wait".into()],
            limit: 5,
        },
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cancelled_request_is_answered_but_not_journaled() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    start(&bus, "run-2").await;
    let (started, mut waiting_on) = mpsc::unbounded_channel();
    let agent = spawn_agent(&bus, Arc::new(Waiter { started }), 4, 8);

    let requests: Vec<_> = [("run-1", "task-1"), ("run-2", "task-2")]
        .into_iter()
        .map(|(run, id)| {
            let bus = bus.clone();
            tokio::spawn(async move { bus.request(waiting(run, id), false).await })
        })
        .collect();
    let mut now_waiting = HashSet::new();
    for _ in 0..2 {
        now_waiting.insert(within("the agent to start", waiting_on.recv()).await.expect("started"));
    }
    assert_eq!(now_waiting, HashSet::from(["task-1".to_owned(), "task-2".to_owned()]));

    bus.cancel_run("run-1");
    let [first, second]: [_; 2] = requests.try_into().expect("two requests");
    let reply = within("the cancelled request", first)
        .await
        .expect("the requester task")
        .expect("a reply, not a bus error");
    let failed = failure(&reply);
    assert_eq!(failed.kind, FailureKind::Cancelled);
    assert_eq!(reply.seq, 0, "a cancelled reply is not journaled");
    assert_eq!(ids(&journal(&bus, "run-1").await), ["session", "task-1"]);

    // Only that run was cancelled: the other request is still waiting.
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert!(!second.is_finished(), "cancelling run-1 must not cancel run-2");

    // Opened again (a resumed drive does this), the run goes on with a fresh token.
    bus.open_run("run-1");
    let later = within(
        "a request after the cancel",
        bus.request(retrieve("run-1", "task-3"), false),
    )
    .await
    .expect("a reply");
    assert_eq!(later.payload, evidence());
    assert_eq!(
        ids(&journal(&bus, "run-1").await),
        ["session", "task-1", "task-3", "task-3/reply"]
    );

    bus.cancel_run("run-2");
    let reply = within("the second cancelled request", second)
        .await
        .expect("the requester task")
        .expect("a reply");
    assert_eq!(failure(&reply).kind, FailureKind::Cancelled);
    assert_eq!(ids(&journal(&bus, "run-2").await), ["session", "task-2"]);
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requesting_an_agent_that_is_not_running_is_an_error() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let result = within("a request to nobody", bus.request(retrieve("run-1", "task-1"), false)).await;
    assert!(
        matches!(&result, Err(BusError::NoSuchAgent(name)) if name == "retriever"),
        "{result:?}"
    );
    // Refused before it was journaled: no unanswered request is left behind.
    assert_eq!(ids(&journal(&bus, "run-1").await), ["session"]);
}

/// Never answers and ignores cancellation: a handler stuck in a call that cannot be interrupted.
struct Stuck {
    started: mpsc::UnboundedSender<()>,
}

impl Agent for Stuck {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, _request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        let _ = self.started.send(());
        std::future::pending::<()>().await;
        Ok(evidence())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_gives_up_on_a_handler_that_ignores_cancellation() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let (started, mut has_started) = mpsc::unbounded_channel();
    let agent = spawn_agent(&bus, Arc::new(Stuck { started }), 1, 8);
    let pending = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request(retrieve("run-1", "task-1"), false).await })
    };
    within("the handler to start", has_started.recv()).await;
    within(
        "shutdown of a stuck agent",
        agent.shutdown_within(&bus, Duration::from_millis(200)),
    )
    .await;
    // The requester is told, rather than left waiting for a reply that cannot come.
    let result = within("the abandoned request", pending).await.expect("requester task");
    assert!(matches!(result, Err(BusError::AgentStopped { .. })), "{result:?}");
    assert_eq!(ids(&journal(&bus, "run-1").await), ["session", "task-1"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_closed_run_leaves_no_cancellation_token_behind() {
    let (_dir, bus) = open_bus().await;
    bus.open_run("run-1");
    bus.cancel_run("run-2");
    assert_eq!(bus.tracked_runs(), 2);
    bus.close_run("run-1");
    bus.close_run("run-2");
    assert_eq!(bus.tracked_runs(), 0);
    // A closed run opened again works as new.
    bus.open_run("run-2");
    assert!(!bus.run_token("run-2").is_cancelled());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_shutdown_requests_fail_instead_of_hanging() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let (started, mut waiting_on) = mpsc::unbounded_channel();
    let agent = spawn_agent(&bus, Arc::new(Waiter { started }), 1, 8);
    assert_eq!(agent.name(), AgentName::Retriever);
    let answered = within("a request", bus.request(retrieve("run-1", "task-0"), false))
        .await
        .expect("a reply");
    assert_eq!(answered.payload, evidence());

    // One request in progress (waiting to be cancelled), one queued behind it.
    let in_progress = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request(waiting("run-1", "task-1"), false).await })
    };
    within("the agent to start", waiting_on.recv()).await.expect("started");
    let queued = {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request(waiting("run-1", "task-2"), false).await })
    };
    tokio::time::sleep(Duration::from_millis(50)).await;

    within("shutdown", agent.shutdown(&bus)).await;
    for (what, request) in [("in progress", in_progress), ("queued", queued)] {
        match within(what, request).await.expect("the requester task") {
            Ok(reply) => {
                assert_eq!(failure(&reply).kind, FailureKind::Cancelled, "{what}");
                assert_eq!(reply.seq, 0, "{what}: a cancelled reply is not journaled");
            }
            Err(error) => assert!(
                matches!(error, BusError::AgentStopped { .. } | BusError::NoSuchAgent(_)),
                "{what}: {error:?}"
            ),
        }
    }

    let after = within(
        "a request after shutdown",
        bus.request(retrieve("run-1", "task-3"), false),
    )
    .await;
    assert!(
        matches!(after, Err(BusError::AgentStopped { .. } | BusError::NoSuchAgent(_))),
        "{after:?}"
    );
    let journaled = journal(&bus, "run-1").await;
    assert!(
        journaled.iter().all(|envelope| envelope.id != "task-3/reply"
            && envelope.id != "task-1/reply"
            && envelope.id != "task-2/reply"),
        "no reply journaled after shutdown: {:?}",
        ids(&journaled)
    );
}

/// Counts the requests it handles at once, sleeping in each.
struct Counter {
    now: AtomicUsize,
    most: AtomicUsize,
}

impl Agent for Counter {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, _request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        let now = self.now.fetch_add(1, Ordering::SeqCst) + 1;
        self.most.fetch_max(now, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(50)).await;
        self.now.fetch_sub(1, Ordering::SeqCst);
        Ok(evidence())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_handles_up_to_its_concurrency_at_once() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let counter = Arc::new(Counter {
        now: AtomicUsize::new(0),
        most: AtomicUsize::new(0),
    });
    let agent = spawn_agent(&bus, counter.clone(), 3, 64);
    within("16 requests", flood(&bus, "run-1", 16, 16)).await;
    assert_eq!(
        counter.most.load(Ordering::SeqCst),
        3,
        "at most (and, here, exactly) 3 at once"
    );
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_journal_entry_whose_kind_does_not_match_its_payload_is_refused() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-7").await;
    // Written behind the bus's back, as a corrupt or foreign journal would be.
    let mut entry = retrieve("run-7", "task-1").to_entry().expect("encodable");
    entry.kind = "evidence_ready".into();
    let seq = bus
        .store()
        .append_message(&entry)
        .await
        .expect("the store does not read payloads");

    let stored = bus.store().run_messages("run-7", 0).await.expect("reading the journal");
    assert_eq!(stored.len(), 2);
    let error = Envelope::from_entry(&stored[1]).expect_err("a mismatched kind must be refused");
    match &error {
        BusError::BadJournalEntry {
            run_id,
            seq: at,
            detail,
        } => {
            assert_eq!((run_id.as_str(), *at), ("run-7", seq));
            assert!(
                detail.contains("evidence_ready") && detail.contains("retrieve_request"),
                "{detail}"
            );
        }
        other => panic!("expected BadJournalEntry, got {other:?}"),
    }
    let shown = error.to_string();
    assert!(
        shown.contains("run-7") && shown.contains(&format!("message {seq}")),
        "{shown}"
    );

    // The same entry with its kind intact reads back; so the refusal was the kind.
    let mut fixed = stored[1].clone();
    fixed.kind = "retrieve_request".into();
    assert_eq!(Envelope::from_entry(&fixed).expect("readable").id, "task-1");

    // Other unreadable entries are refused the same way, naming where they are.
    let mut garbled = stored[1].clone();
    garbled.payload = "{\"kind\":\"retrieve_request\"}".into();
    assert!(matches!(
        Envelope::from_entry(&garbled),
        Err(BusError::BadJournalEntry { seq: at, .. }) if at == seq
    ));
    let mut stranger = fixed;
    stranger.sender = "oracle".into();
    assert!(matches!(
        Envelope::from_entry(&stranger),
        Err(BusError::BadJournalEntry { ref run_id, .. }) if run_id == "run-7"
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_id_is_journaled_once_per_run() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    start(&bus, "run-2").await;
    let note = |run: &str| {
        Envelope::new(
            run,
            "note",
            AgentName::Planner,
            AgentName::User,
            Payload::RoundFinished {
                round: 1,
                ratings: vec![],
            },
        )
    };
    bus.journal(note("run-1")).await.expect("the first time");
    let again = bus.journal(note("run-1")).await;
    assert!(
        matches!(&again, Err(BusError::Store(StoreError::Duplicate { run_id, id })) if run_id == "run-1" && id == "note"),
        "{again:?}"
    );
    bus.journal(note("run-2"))
        .await
        .expect("the same id in another run is fine");

    // A duplicate request is refused before delivery: the agent never sees it.
    let flaky = Arc::new(Flaky {
        kind: FailureKind::Fatal,
        succeed_on: 1,
        calls: AtomicU32::new(0),
    });
    let agent = spawn_agent(&bus, flaky.clone(), 1, 8);
    within("a request", bus.request(retrieve("run-1", "task-1"), false))
        .await
        .expect("a reply");
    let duplicate = within("a duplicate request", bus.request(retrieve("run-1", "task-1"), false)).await;
    assert!(
        matches!(&duplicate, Err(BusError::Store(StoreError::Duplicate { id, .. })) if id == "task-1"),
        "{duplicate:?}"
    );
    assert_eq!(flaky.calls.load(Ordering::SeqCst), 1, "the duplicate was not delivered");
    assert_eq!(
        ids(&journal(&bus, "run-1").await),
        ["session", "note", "task-1", "task-1/reply"]
    );

    // A second run with an id already used is refused whole.
    let restart = bus
        .start_run(
            "again?",
            Envelope::new(
                "run-1",
                "other",
                AgentName::User,
                AgentName::Planner,
                Payload::SessionStarted { resumed: false },
            ),
        )
        .await;
    assert!(restart.is_err(), "{restart:?}");
    assert_eq!(journal(&bus, "run-1").await.len(), 4);
    within("shutdown", agent.shutdown(&bus)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_resent_after_a_resume_is_not_journaled_twice() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    // Journaled by an earlier session that stopped before the reply.
    let request = bus.journal(retrieve("run-1", "task-1")).await.expect("journaled");
    let mut stream = bus.subscribe();
    let agent = spawn_agent(&bus, Arc::new(Echo), 1, 8);
    let reply = within("the re-sent request", bus.request(request.clone(), true))
        .await
        .expect("a reply");
    assert_eq!(reply.parent_id.as_deref(), Some("task-1"));
    assert_eq!(
        ids(&journal(&bus, "run-1").await),
        ["session", "task-1", "task-1/reply"]
    );
    // The stream shows the re-sent request (it is live again) and its reply.
    assert_eq!(stream.try_recv().expect("the request"), request);
    assert_eq!(stream.try_recv().expect("the reply"), reply);
    within("shutdown", agent.shutdown(&bus)).await;
}

/// `cancel_run` also cancels a request of the run still in the agent's inbox
/// (or waiting for a slot) when it starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_queued_when_its_run_is_cancelled_is_cancelled_too() {
    let (_dir, bus) = open_bus().await;
    start(&bus, "run-1").await;
    let (started, mut waiting_on) = mpsc::unbounded_channel();
    let agent = spawn_agent(&bus, Arc::new(Waiter { started }), 1, 8);
    let send = |id: &'static str| {
        let bus = bus.clone();
        tokio::spawn(async move { bus.request(waiting("run-1", id), false).await })
    };
    let in_progress = send("task-1");
    within("the agent to start", waiting_on.recv()).await.expect("started");
    let queued = send("task-2");
    tokio::time::sleep(Duration::from_millis(50)).await;

    bus.cancel_run("run-1");
    let reply = within("the request in progress", in_progress)
        .await
        .expect("the requester task")
        .expect("a reply");
    assert_eq!(failure(&reply).kind, FailureKind::Cancelled);
    let reply = tokio::time::timeout(Duration::from_secs(5), queued)
        .await
        .expect("the queued request of a cancelled run waits on a token nobody cancels")
        .expect("the requester task")
        .expect("a reply");
    assert_eq!(failure(&reply).kind, FailureKind::Cancelled);
    within("shutdown", agent.shutdown(&bus)).await;
}
