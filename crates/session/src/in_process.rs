//! Reviews started, paused, resumed and cancelled inside a long-lived process (the terminal UI):
//! the same session, agents and driver as `hypatia review`, with the model loaded on the first start.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use hypatia_bus::{Bus, RunJournal};
use hypatia_models::{ModelConfig, ModelFlags, build_llm};
use hypatia_project::Project;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::{DEFAULT_CALL_TIMEOUT, ModelRecord, NewReview, Session, model_config_in, start_review};

/// Errors are sentences for the person at the screen.
type Answer<T> = Result<T, String>;

#[derive(Clone)]
pub struct InProcess(Arc<Inner>);

struct Inner {
    project: Arc<Project>,
    explicit: Option<PathBuf>,
    loaded: tokio::sync::Mutex<Option<Loaded>>,
    active: Mutex<HashMap<String, Active>>,
}

/// The model, loaded once, and what a run records about it.
struct Loaded {
    session: Session,
    config: ModelConfig,
    model: ModelRecord,
}

struct Active {
    cancel: CancellationToken,
    task: JoinHandle<()>,
}

impl InProcess {
    /// `explicit` is the `--project` folder the process was given, for the model configuration.
    pub fn new(project: Arc<Project>, explicit: Option<PathBuf>) -> InProcess {
        InProcess(Arc::new(Inner {
            project,
            explicit,
            loaded: tokio::sync::Mutex::new(None),
            active: Mutex::new(HashMap::new()),
        }))
    }

    /// Starts a review and drives it on a task of its own; answers with its run id once journaled.
    pub async fn start(&self, review: NewReview) -> Answer<String> {
        let inner = &self.0;
        let (bus, config, model) = inner.session().await?;
        let run_id = review.run_id();
        start_review(&bus, &run_id, &review, &model, &config)
            .await
            .map_err(|e| e.to_string())?;
        inner.spawn_drive(bus, &run_id)?;
        Ok(run_id)
    }

    /// Stops working on a run, leaving it resumable (as Ctrl-C does for `hypatia review`).
    pub async fn pause(&self, run_id: &str) -> Answer<()> {
        self.0.pause(run_id).await
    }

    /// Goes on with a paused or interrupted run.
    pub async fn resume(&self, run_id: &str) -> Answer<()> {
        if self.is_active(run_id) {
            return Ok(());
        }
        let (bus, ..) = self.0.session().await?;
        self.0.spawn_drive(bus, run_id)
    }

    /// Ends a run for good, as `cancelled`; what it found so far stays.
    pub async fn cancel(&self, run_id: &str, reason: &str) -> Answer<()> {
        if self.is_active(run_id) {
            self.0.pause(run_id).await?;
        }
        // Nobody else may be driving it while it is ended.
        let _lock = self.0.project.lock_run(run_id).map_err(|e| e.to_string())?;
        let journal = RunJournal::new(self.0.project.store());
        hypatia_planner::cancel_run(&journal, run_id, reason)
            .await
            .map_err(|e| e.to_string())
    }

    /// Whether this process is working on the run now.
    pub fn is_active(&self, run_id: &str) -> bool {
        self.0.active().contains_key(run_id)
    }

    /// Pauses every run this process works on (each stays resumable) and stops the agents.
    pub async fn shutdown(&self) {
        let ids: Vec<String> = self.0.active().keys().cloned().collect();
        for id in ids {
            let _ = self.0.pause(&id).await;
        }
        if let Some(loaded) = self.0.loaded.lock().await.take() {
            loaded.session.stop().await;
        }
    }
}

impl Inner {
    fn active(&self) -> std::sync::MutexGuard<'_, HashMap<String, Active>> {
        // Only inserts and removals happen under the lock; a poisoned map is still a valid map.
        self.active.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The session of the loaded model, loading it first if needed.
    async fn session(&self) -> Answer<(Bus, ModelConfig, ModelRecord)> {
        let mut loaded = self.loaded.lock().await;
        if loaded.is_none() {
            let cwd = std::env::current_dir().map_err(|e| format!("cannot read the current folder: {e}"))?;
            let config =
                model_config_in(self.explicit.as_deref(), &cwd, &ModelFlags::default()).map_err(|e| e.to_string())?;
            if config.backend.is_none() {
                return Err(
                    "no model is configured: set [model] path in hypatia.toml, HYPATIA_MODEL, or an \
                     OpenAI-compatible [openai] endpoint, then open the UI again"
                        .to_owned(),
                );
            }
            let built = build_llm(&config).await.map_err(|e| e.to_string())?;
            let model = ModelRecord::of(&built, &config, &self.project)
                .await
                .map_err(|e| e.to_string())?;
            let session = Session::with_model(
                self.project.clone(),
                built,
                &model.provenance.model,
                &config,
                DEFAULT_CALL_TIMEOUT,
            );
            *loaded = Some(Loaded { session, config, model });
        }
        let loaded = loaded.as_ref().ok_or("the model did not load")?;
        Ok((
            loaded.session.bus().clone(),
            loaded.config.clone(),
            loaded.model.clone(),
        ))
    }

    /// Drives the run on a task of its own, holding its lock while it does.
    fn spawn_drive(self: &Arc<Self>, bus: Bus, run_id: &str) -> Answer<()> {
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

    async fn pause(&self, run_id: &str) -> Answer<()> {
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
