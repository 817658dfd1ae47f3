//! A new review: its settings from one set of defaults, and its first message journaled.

use std::path::{Path, PathBuf};

use hypatia_bus::{Bus, BusError, RunJournal};
use hypatia_models::{BuiltModel, ConfigError, ModelConfig, ModelFlags, resolve_config};
use hypatia_planner::DriveError;
use hypatia_project::{ProjectError, find_project_root};
use hypatia_research::{Budget, Payload, RunProvenance, RunSettings, defaults};

#[derive(Debug, thiserror::Error)]
pub enum ReviewError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Project(#[from] ProjectError),
    #[error(transparent)]
    Fingerprint(#[from] hypatia_models::PullError),
    #[error(transparent)]
    Drive(#[from] DriveError),
    #[error(transparent)]
    Journal(#[from] BusError),
}

/// What the researcher asks for: the question and the run's shape. `Default` is the one set of
/// defaults the CLI's flags, the terminal UI's form and the benches share.
#[derive(Debug, Clone, PartialEq)]
pub struct NewReview {
    pub question: String,
    pub hypotheses: u32,
    pub rounds: u32,
    pub leaders: u32,
    pub evidence: u32,
    /// The seed of every model call; `None`: the configured seed, else a new one.
    pub seed: Option<u64>,
    pub budget: Budget,
    /// Write a synthesis section per sub-question (what the evidence shows, each citation judged).
    pub synthesis: bool,
}

impl NewReview {
    pub fn new(question: &str) -> NewReview {
        NewReview {
            question: question.split_whitespace().collect::<Vec<_>>().join(" "),
            hypotheses: defaults::HYPOTHESES,
            rounds: defaults::ROUNDS,
            leaders: defaults::LEADERS,
            evidence: defaults::EVIDENCE,
            seed: None,
            budget: Budget::default(),
            synthesis: defaults::SYNTHESIS,
        }
    }

    /// A fresh id for the run: taken (and its run locked) before the run is journaled.
    pub fn run_id(&self) -> String {
        hypatia_planner::new_run_id(&self.question)
    }

    /// The run's settings, with what it records about its model.
    pub fn settings(&self, model: &ModelRecord, config: &ModelConfig) -> RunSettings {
        let seed = self
            .seed
            .or(config.settings.generation.seed.map(u64::from))
            .unwrap_or_else(|| hypatia_research::now_ms() as u64);
        RunSettings {
            question: self.question.clone(),
            hypotheses: self.hypotheses,
            rounds: self.rounds,
            leaders: self.leaders.min(self.hypotheses),
            seed,
            evidence_limit: self.evidence,
            budget: Budget {
                minutes: self.budget.minutes.filter(|m| *m > 0.0),
                ..self.budget.clone()
            },
            model: model.description.clone(),
            model_file: model.file.clone(),
            provenance: Some(model.provenance.clone()),
            synthesis: self.synthesis,
        }
    }
}

/// What a run records about the model it starts with.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRecord {
    /// The backend's description (never a key).
    pub description: String,
    /// The GGUF file, for the in-process backend: `resume` goes on with it when no model is given.
    pub file: Option<PathBuf>,
    pub provenance: RunProvenance,
}

impl ModelRecord {
    /// Hashes a local model file once (about a second per gigabyte). `project` says how the run's
    /// evidence will be searched (with its embedding model, if one is attached).
    pub async fn of(
        built: &BuiltModel,
        config: &ModelConfig,
        project: &hypatia_project::Project,
    ) -> Result<ModelRecord, ReviewError> {
        Ok(ModelRecord {
            description: built.llm.describe(),
            file: built.local.as_ref().map(|summary| summary.path.clone()),
            provenance: crate::provenance(built, config, project.retrieval_description()).await?,
        })
    }
}

/// Journals run `run_id`'s first message on `bus` (an id from [`NewReview::run_id`]); driving it is
/// the caller's.
pub async fn start_review(
    bus: &Bus,
    run_id: &str,
    review: &NewReview,
    model: &ModelRecord,
    config: &ModelConfig,
) -> Result<(), ReviewError> {
    hypatia_planner::start_run(bus, run_id, review.settings(model, config)).await?;
    Ok(())
}

/// The settings a stored run was started with, from its first message.
pub async fn stored_settings(journal: &RunJournal, run_id: &str) -> Result<Option<RunSettings>, ReviewError> {
    Ok(match journal.first(run_id).await?.map(|first| first.payload) {
        Some(Payload::RunStarted { settings }) => Some(settings),
        _ => None,
    })
}

/// How a stored run goes on: with the model configured, else with the GGUF file it began with.
pub struct Resumption {
    pub config: ModelConfig,
    /// The run's own file, when it was taken because no model was configured.
    pub runs_own_model: Option<PathBuf>,
    /// The settings the run began with (absent in a journal that lost its first message).
    pub settings: Option<RunSettings>,
}

impl Resumption {
    pub async fn of(
        journal: &RunJournal,
        run_id: &str,
        explicit: Option<&Path>,
        cwd: &Path,
        flags: &ModelFlags,
    ) -> Result<Resumption, ReviewError> {
        let settings = stored_settings(journal, run_id).await?;
        let mut config = model_config_in(explicit, cwd, flags)?;
        let mut runs_own_model = None;
        if config.backend.is_none()
            && let Some(file) = settings.as_ref().and_then(|s| s.model_file.clone())
        {
            let flags = ModelFlags {
                model: Some(file.clone()),
                ..flags.clone()
            };
            config = model_config_in(explicit, cwd, &flags)?;
            runs_own_model = Some(file);
        }
        Ok(Resumption {
            config,
            runs_own_model,
            settings,
        })
    }

    /// A warning when `built` is not the model the run began with.
    pub fn model_change(&self, built: &BuiltModel) -> Option<String> {
        let began = &self.settings.as_ref()?.provenance.as_ref()?.model;
        crate::model_change(began, built, &self.config)
    }
}

/// The model configuration for work in `cwd`: with the project's layer when there is a project
/// (an explicit `--project` must exist), else the user file and environment alone.
pub fn model_config_in(explicit: Option<&Path>, cwd: &Path, flags: &ModelFlags) -> Result<ModelConfig, ReviewError> {
    let root = match find_project_root(explicit, cwd) {
        Ok(root) => Some(root),
        Err(ProjectError::NotFound { .. }) if explicit.is_none() => None,
        Err(error) => return Err(error.into()),
    };
    Ok(resolve_config(root.as_deref(), flags)?)
}
