//! The live progress line of a run, on stderr when it is a terminal:
//! stage, model calls, tokens and elapsed time, from the bus's stream.

use hypatia_bus::Bus;
use hypatia_research::Payload;
use tokio::sync::broadcast::error::RecvError;
use tokio::task::JoinHandle;

pub struct Progress {
    task: JoinHandle<()>,
    stop: tokio_util::sync::CancellationToken,
}

impl Progress {
    pub async fn finish(self) {
        self.stop.cancel();
        let _ = self.task.await;
    }
}

pub fn follow(bus: &Bus, run_id: &str) -> Progress {
    let mut events = bus.subscribe();
    let run_id = run_id.to_owned();
    let stop = tokio_util::sync::CancellationToken::new();
    let stopped = stop.clone();
    let task = tokio::spawn(async move {
        let bar = super::progress_bar(1);
        if let Ok(style) = indicatif::ProgressStyle::with_template("{spinner} {elapsed_precise} {msg}") {
            bar.set_style(style);
        }
        let (mut calls, mut tokens, mut failures) = (0u64, 0u64, 0u64);
        let mut stage = "starting".to_owned();
        loop {
            let event = tokio::select! {
                event = events.recv() => event,
                _ = stopped.cancelled() => break,
            };
            let envelope = match event {
                Ok(envelope) => envelope,
                // The display fell behind: the journal has everything; the counts are approximate.
                Err(RecvError::Lagged(_)) => continue,
                Err(RecvError::Closed) => break,
            };
            if envelope.run_id != run_id {
                continue;
            }
            if let Some(usage) = envelope.payload.usage() {
                calls += envelope.payload.model_calls();
                tokens += usage.tokens();
            }
            match &envelope.payload {
                Payload::PlanRequest { .. } => stage = "planning".into(),
                Payload::RetrieveRequest { .. } => stage = "retrieving evidence".into(),
                Payload::SynthesisRequest { .. } => stage = "writing what the literature shows".into(),
                Payload::RelateRequest { .. } => stage = "comparing findings across papers".into(),
                Payload::GenerateRequest { .. } => stage = "composing hypotheses".into(),
                Payload::ReviseRequest { round, .. } => stage = format!("round {round}: revising leaders"),
                Payload::ReviewRequest { .. } => stage = "reviewing".into(),
                Payload::JudgeRequest { round, .. } => stage = format!("round {round}: tournament"),
                Payload::TaskFailed { .. } => failures += 1,
                Payload::RunFinished { .. } => stage = "finished".into(),
                _ => {}
            }
            let skipped = if failures > 0 {
                format!(" · {failures} skipped")
            } else {
                String::new()
            };
            bar.set_message(format!("{stage} · {calls} model calls · {tokens} tokens{skipped}"));
        }
        bar.finish_and_clear();
    });
    Progress { task, stop }
}
