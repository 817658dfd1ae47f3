//! hypatia-bus-bench: throughput of the agents' bus and its SQLite journal.
//!
//! `--requests` requests from `--requesters` concurrent requesters to an echo
//! agent that answers at once (`--concurrency` requests at a time). The bus
//! journals every request before delivering it and the agent journals every
//! reply, so each request is two journaled messages. A subscriber counts what
//! the live stream shows it (and what it missed by lagging).
//!
//! Baseline: the same number of journal entries appended with
//! `Store::append_message`, one after another and then from `--requesters`
//! tasks at once, without the bus: the bus's cost over the raw SQLite insert.
//! Each measurement has its own fresh database.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Parser;
use hypatia_bus::Journaled;
use hypatia_bus::{Agent, Bus, spawn_agent};
use hypatia_research::{AgentFailure, AgentName, Envelope, Payload};
use hypatia_store::{JournalEntry, Store};
use serde_json::json;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio_util::sync::CancellationToken;

#[derive(Debug, Parser)]
struct Args {
    /// Requests sent over the bus (each is journaled, and so is its reply).
    #[arg(long, default_value_t = 20_000)]
    requests: usize,
    /// Tasks sending requests at once.
    #[arg(long, default_value_t = 8)]
    requesters: usize,
    /// Requests the echo agent handles at once.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// The echo agent's inbox capacity.
    #[arg(long, default_value_t = 256)]
    inbox: usize,
    /// Where the databases are written (default: a temporary directory, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Print the results as JSON instead of a table.
    #[arg(long)]
    json: bool,
}

/// Answers every request at once.
struct Echo;

impl Agent for Echo {
    fn name(&self) -> AgentName {
        AgentName::Retriever
    }

    async fn handle(self: Arc<Self>, _request: Envelope, _cancel: CancellationToken) -> Result<Payload, AgentFailure> {
        Ok(evidence())
    }
}

fn evidence() -> Payload {
    Payload::EvidenceReady {
        evidence: vec![],
        skipped: vec![],
    }
}

fn request(run: &str, i: usize) -> Envelope {
    Envelope::new(
        run,
        format!("retrieve-{i}"),
        AgentName::Planner,
        AgentName::Retriever,
        Payload::RetrieveRequest {
            queries: vec![format!("query number {i}")],
            limit: 20,
        },
    )
}

fn first(run: &str) -> Envelope {
    Envelope::new(
        run,
        "session",
        AgentName::User,
        AgentName::Planner,
        Payload::SessionStarted { resumed: false },
    )
}

struct Latency {
    p50_ms: f64,
    p99_ms: f64,
}

fn latency(mut samples: Vec<Duration>) -> Latency {
    samples.sort_unstable();
    let at = |percent: usize| {
        let index = (samples.len() * percent / 100).min(samples.len().saturating_sub(1));
        samples.get(index).map_or(0.0, |sample| sample.as_secs_f64() * 1000.0)
    };
    Latency {
        p50_ms: at(50),
        p99_ms: at(99),
    }
}

struct Measured {
    name: &'static str,
    /// Journal entries written in the timed part.
    messages: usize,
    /// Requests (bus only).
    requests: Option<usize>,
    seconds: f64,
    /// Per request for the bus, per append for the raw journal.
    latency: Latency,
}

impl Measured {
    fn messages_per_second(&self) -> f64 {
        self.messages as f64 / self.seconds
    }

    fn requests_per_second(&self) -> Option<f64> {
        self.requests.map(|requests| requests as f64 / self.seconds)
    }

    fn to_json(&self) -> serde_json::Value {
        json!({
            "messages": self.messages,
            "requests": self.requests,
            "seconds": self.seconds,
            "messages_per_second": self.messages_per_second(),
            "requests_per_second": self.requests_per_second(),
            "p50_ms": self.latency.p50_ms,
            "p99_ms": self.latency.p99_ms,
        })
    }
}

struct Stream {
    published: usize,
    delivered: u64,
    lagged: u64,
}

async fn measure_bus(path: &Path, args: &Args) -> anyhow::Result<(Measured, Stream)> {
    let store = Store::open(path).await?;
    let bus = Bus::new(store.clone());
    let run = "bench-bus";

    // Counts what the live stream shows until told the requests are done, then drains it.
    let mut stream = bus.subscribe();
    let done = CancellationToken::new();
    let subscriber = tokio::spawn({
        let done = done.clone();
        async move {
            let (mut delivered, mut lagged) = (0u64, 0u64);
            loop {
                tokio::select! {
                    biased;
                    message = stream.recv() => match message {
                        Ok(_) => delivered += 1,
                        Err(RecvError::Lagged(missed)) => lagged += missed,
                        Err(RecvError::Closed) => break,
                    },
                    _ = done.cancelled() => break,
                }
            }
            loop {
                match stream.try_recv() {
                    Ok(_) => delivered += 1,
                    Err(TryRecvError::Lagged(missed)) => lagged += missed,
                    Err(_) => break,
                }
            }
            (delivered, lagged)
        }
    });

    bus.start_run("how fast is the bus?", first(run)).await?;
    let agent = spawn_agent(&bus, Arc::new(Echo), args.concurrency, args.inbox);

    let requesters = args.requesters.max(1);
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for requester in 0..requesters {
        let bus = bus.clone();
        let count = args.requests;
        tasks.spawn(async move {
            let mut latencies = Vec::with_capacity(count / requesters + 1);
            for i in (requester..count).step_by(requesters) {
                let sent = Instant::now();
                let reply = bus.request(request(run, i), false).await?;
                latencies.push(sent.elapsed());
                if reply.payload != evidence() {
                    bail!("request {i} got {:?}", reply.payload);
                }
            }
            anyhow::Ok(latencies)
        });
    }
    let mut latencies = Vec::with_capacity(args.requests);
    while let Some(finished) = tasks.join_next().await {
        latencies.extend(finished??);
    }
    let seconds = started.elapsed().as_secs_f64();

    done.cancel();
    let (delivered, lagged) = subscriber.await?;
    agent.shutdown(&bus).await;
    let journaled = store.run(run).await?.context("the bench run")?.messages;
    let published = 1 + 2 * args.requests;
    if journaled != published as i64 {
        bail!("the journal holds {journaled} messages, expected {published}");
    }
    store.close().await;
    let measured = Measured {
        name: "bus: request + reply journaled",
        messages: 2 * args.requests,
        requests: Some(args.requests),
        seconds,
        latency: latency(latencies),
    };
    Ok((
        measured,
        Stream {
            published,
            delivered,
            lagged,
        },
    ))
}

/// The journal entries the bus run writes: each request and its reply.
fn entries(run: &str, requests: usize) -> anyhow::Result<Vec<JournalEntry>> {
    let mut entries = Vec::with_capacity(2 * requests);
    for i in 0..requests {
        let request = request(run, i);
        entries.push(request.to_entry()?);
        entries.push(request.reply(evidence()).to_entry()?);
    }
    Ok(entries)
}

/// How the raw baseline writes the journal.
#[derive(Clone, Copy)]
enum Writers {
    /// One append after another.
    Sequential,
    /// This many tasks appending at once, contending in SQLite for the write lock.
    Concurrent(usize),
    /// This many tasks appending at once, one at a time behind an in-process lock
    /// (what the bus would do if it serialised its journal writes).
    Serialized(usize),
}

async fn measure_raw(path: &Path, args: &Args, writers: Writers) -> anyhow::Result<Measured> {
    let store = Store::open(path).await?;
    let run = "bench-raw";
    store
        .create_run("how fast is the journal?", &first(run).to_entry()?)
        .await?;
    let entries = entries(run, args.requests)?;
    let messages = entries.len();

    let started = Instant::now();
    let latencies = match writers {
        Writers::Sequential => {
            let mut latencies = Vec::with_capacity(messages);
            for entry in &entries {
                let sent = Instant::now();
                store.append_message(entry).await?;
                latencies.push(sent.elapsed());
            }
            latencies
        }
        Writers::Concurrent(tasks) | Writers::Serialized(tasks) => {
            let tasks = tasks.max(1);
            let lock = matches!(writers, Writers::Serialized(_)).then(|| Arc::new(tokio::sync::Mutex::new(())));
            let mut shares: Vec<Vec<JournalEntry>> = (0..tasks).map(|_| Vec::new()).collect();
            for (i, entry) in entries.into_iter().enumerate() {
                shares[i % tasks].push(entry);
            }
            let mut running = tokio::task::JoinSet::new();
            for share in shares {
                let (store, lock) = (store.clone(), lock.clone());
                running.spawn(async move {
                    let mut latencies = Vec::with_capacity(share.len());
                    for entry in &share {
                        let sent = Instant::now();
                        let guard = match &lock {
                            Some(lock) => Some(lock.lock().await),
                            None => None,
                        };
                        store.append_message(entry).await?;
                        drop(guard);
                        latencies.push(sent.elapsed());
                    }
                    anyhow::Ok(latencies)
                });
            }
            let mut latencies = Vec::with_capacity(messages);
            while let Some(finished) = running.join_next().await {
                latencies.extend(finished??);
            }
            latencies
        }
    };
    let seconds = started.elapsed().as_secs_f64();

    let journaled = store.run(run).await?.context("the bench run")?.messages;
    if journaled != 1 + messages as i64 {
        bail!("the journal holds {journaled} messages, expected {}", 1 + messages);
    }
    store.close().await;
    Ok(Measured {
        name: match writers {
            Writers::Sequential => "raw append_message, sequential",
            Writers::Concurrent(_) => "raw append_message, concurrent",
            Writers::Serialized(_) => "raw append_message, concurrent+mutex",
        },
        messages,
        requests: None,
        seconds,
        latency: latency(latencies),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    if args.requests == 0 {
        bail!("--requests must be at least 1");
    }
    let temporary;
    let dir = match &args.dir {
        Some(dir) => {
            std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            dir.clone()
        }
        None => {
            temporary = tempfile::tempdir()?;
            temporary.path().to_owned()
        }
    };
    // Fresh databases each time, so a kept --dir can be measured again.
    let stamp = hypatia_research::now_ms();
    let database = |what: &str| dir.join(format!("bus-bench-{stamp}-{what}.db"));

    let (bus, stream) = measure_bus(&database("bus"), &args).await?;
    let raw = measure_raw(&database("raw"), &args, Writers::Sequential).await?;
    let raw_concurrent = measure_raw(&database("raw-concurrent"), &args, Writers::Concurrent(args.requesters)).await?;
    let raw_serialized = measure_raw(&database("raw-serialized"), &args, Writers::Serialized(args.requesters)).await?;
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    // What the bus adds to each journaled message, over a sequential raw insert.
    let overhead_us = (bus.seconds / bus.messages as f64 - raw.seconds / raw.messages as f64) * 1e6;

    if args.json {
        let report = json!({
            "requests": args.requests,
            "requesters": args.requesters,
            "concurrency": args.concurrency,
            "inbox": args.inbox,
            "cores": cores,
            "bus": bus.to_json(),
            "subscriber": {
                "published": stream.published,
                "delivered": stream.delivered,
                "lagged": stream.lagged,
            },
            "raw_sequential": raw.to_json(),
            "raw_concurrent": raw_concurrent.to_json(),
            "raw_concurrent_serialized": raw_serialized.to_json(),
            "bus_over_raw_sequential": bus.messages_per_second() / raw.messages_per_second(),
            "bus_overhead_us_per_message": overhead_us,
        });
        println!("{}", serde_json::to_string_pretty(&report)?);
        return Ok(());
    }

    println!(
        "{} requests from {} requesters, echo agent concurrency {}, inbox {}, {} cores",
        args.requests, args.requesters, args.concurrency, args.inbox, cores
    );
    println!(
        "{:<42} {:>11} {:>11} {:>8} {:>8} {:>8}",
        "", "messages/s", "requests/s", "p50 ms", "p99 ms", "seconds"
    );
    for measured in [&bus, &raw, &raw_concurrent, &raw_serialized] {
        let requests = measured
            .requests_per_second()
            .map_or_else(|| "-".to_owned(), |rate| format!("{rate:.0}"));
        let name = if measured.name.contains("concurrent") {
            format!("{} ({})", measured.name, args.requesters)
        } else {
            measured.name.to_owned()
        };
        println!(
            "{:<42} {:>11.0} {:>11} {:>8.3} {:>8.3} {:>8.2}",
            name,
            measured.messages_per_second(),
            requests,
            measured.latency.p50_ms,
            measured.latency.p99_ms,
            measured.seconds
        );
    }
    println!("(latency: per request for the bus, per append_message for the raw journal)");
    println!(
        "subscriber: {} delivered, {} lagged, of {} journaled",
        stream.delivered, stream.lagged, stream.published
    );
    println!(
        "bus: {:.2}x the sequential raw journal's messages/s ({overhead_us:+.1} µs per message)",
        bus.messages_per_second() / raw.messages_per_second()
    );
    Ok(())
}
