//! Reviews started, paused, resumed and cancelled from the terminal UI, in this process: the same
//! session, agents and driver as `hypatia review`, with the model loaded on the first start.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hypatia_bus::Bus;
use hypatia_bus::payload::{Budget, RunProvenance, RunSettings};
use hypatia_models::build_llm;
use hypatia_project::Project;
use hypatia_tui::{Answer, Launcher, NewRun};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::review::{Engine, provenance};
use crate::cli::EngineArgs;

/// Passages in the evidence set and leaders revised per round, as `hypatia review` defaults them.
const EVIDENCE: u32 = 12;
const LEADERS: u32 = 3;

#[derive(Clone)]
pub struct InProcess(Arc<Inner>);

struct Inner {
    project: Arc<Project>,
    explicit: Option<PathBuf>,
    engine: tokio::sync::Mutex<Option<Loaded>>,
    active: Mutex<HashMap<String, Active>>,
}

/// The model, loaded once, and what a run records about it.
struct Loaded {
    engine: Engine,
    model: String,
    model_file: Option<PathBuf>,
    provenance: RunProvenance,
}

struct Active {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl InProcess {
    pub fn new(project: Arc<Project>, explicit: Option<PathBuf>) -> InProcess {
        InProcess(Arc::new(Inner {
            project,
            explicit,
            engine: tokio::sync::Mutex::new(None),
            active: Mutex::new(HashMap::new()),
        }))
    }

    /// Pauses every run this process works on (each stays resumable) and stops the agents.
    pub async fn shutdown(&self) {
        let ids: Vec<String> = self.active().keys().cloned().collect();
        for id in ids {
            let _ = self.0.pause(&id).await;
        }
        if let Some(loaded) = self.0.engine.lock().await.take() {
            loaded.engine.stop().await;
        }
    }

    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        self.0.active()
    }
}

impl Inner {
    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        // Only inserts and removals happen under the lock; a poisoned map is still a valid map.
        self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The bus of the loaded model, loading it first if needed.
    async fn bus(&self) -> Result<(Bus, String, Option<PathBuf>, RunProvenance), String> {
        let mut engine = self.engine.lock().await;
        if engine.is_none() {
            let flags = hypatia_project::ModelFlags::default();
            let config = super::model_config(self.explicit.as_deref(), &flags).map_err(|e| format!("{e:#}"))?;
            if config.backend.is_none() {
                return Err(
                    "no model is configured: set [model] path in hypatia.toml, HYPATIA_MODEL, or an \
                            OpenAI-compatible [openai] endpoint, then open the UI again"
                        .to_owned(),
                );
            }
            let built = build_llm(&config).await.map_err(|e| e.to_string())?;
            let provenance = provenance(&built, &config).await.map_err(|e| format!("{e:#}"))?;
            let model = built.llm.describe();
            let model_file = built.local.as_ref().map(|summary| summary.path.clone());
            let started = Engine::start(self.project.clone(), built, &config, &EngineArgs { call_timeout: 600 });
            *engine = Some(Loaded {
                engine: started,
                model,
                model_file,
                provenance,
            });
        }
        let loaded = engine.as_ref().ok_or("the model did not load")?;
        Ok((
            loaded.engine.bus.clone(),
            loaded.model.clone(),
            loaded.model_file.clone(),
            loaded.provenance.clone(),
        ))
    }

    /// Drives the run on a task of its own, holding its lock while it does.
    fn spawn_drive(self: &Arc<Self>, bus: Bus, run_id: &str) -> Result<(), String> {
        let lock = self.project.lock_run(run_id).map_err(|e| e.to_string())?;
        let cancel = CancellationToken::new();
        let (token, id, inner) = (cancel.clone(), run_id.to_owned(), self.clone());
        // Registered under the lock the task's own removal takes, so a drive that ends at once
        // (a finished run) cannot remove itself before it is registered.
        let mut active = self.active();
        let task = tokio::spawn(async move {
            match hypatia_planner::drive(&bus, &id, token).await {
                Ok(outcome) => tracing::info!(run = %id, ?outcome, "drive ended"),
                Err(error) => tracing::error!(run = %id, %error, "drive failed"),
            }
            drop(lock);
            inner.active().remove(&id);
        });
        active.insert(run_id.to_owned(), Active { cancel, task });
        Ok(())
    }

    async fn pause(&self, run_id: &str) -> Result<(), String> {
        let Some(active) = self.active().remove(run_id) else {
            return Err(format!("run {run_id} is not running in this process"));
        };
        active.cancel.cancel();
        active
            .task
            .await
            .map_err(|e| format!("the run's task ended badly: {e}"))
    }
}

impl Launcher for InProcess {
    fn start(&self, run: NewRun) -> Answer<String> {
        let inner = self.0.clone();
        Box::pin(async move {
            let (bus, model, model_file, provenance) = inner.bus().await?;
            let settings = RunSettings {
                question: run.question.clone(),
                hypotheses: run.hypotheses,
                rounds: run.rounds,
                leaders: LEADERS.min(run.hypotheses),
                seed: hypatia_bus::now_ms() as u64,
                evidence_limit: EVIDENCE,
                budget: Budget::default(),
                model,
                model_file,
                provenance: Some(provenance),
            };
            let run_id = hypatia_planner::new_run_id(&run.question);
            hypatia_planner::start_run(&bus, &run_id, settings)
                .await
                .map_err(|e| e.to_string())?;
            inner.spawn_drive(bus, &run_id)?;
            Ok(run_id)
        })
    }

    fn pause(&self, run_id: String) -> Answer<()> {
        let inner = self.0.clone();
        Box::pin(async move { inner.pause(&run_id).await })
    }

    fn resume(&self, run_id: String) -> Answer<()> {
        let inner = self.0.clone();
        Box::pin(async move {
            if inner.active().contains_key(&run_id) {
                return Ok(());
            }
            let (bus, ..) = inner.bus().await?;
            inner.spawn_drive(bus, &run_id)
        })
    }

    fn cancel(&self, run_id: String) -> Answer<()> {
        let inner = self.0.clone();
        Box::pin(async move {
            if inner.active().contains_key(&run_id) {
                inner.pause(&run_id).await?;
            }
            // Nobody else may be driving it while it is ended.
            let _lock = inner.project.lock_run(&run_id).map_err(|e| e.to_string())?;
            let bus = Bus::new(inner.project.store());
            hypatia_planner::cancel_run(&bus, &run_id, "cancelled from the terminal UI")
                .await
                .map_err(|e| e.to_string())
        })
    }

    fn is_active(&self, run_id: &str) -> bool {
        self.active().contains_key(run_id)
    }
}
