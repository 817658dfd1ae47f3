//! The bus and the four agents on a project, with one model.

use std::sync::Arc;
use std::time::Duration;

use hypatia_agentkit::{Thinker, ThinkerSettings};
use hypatia_bus::{AgentHandle, Bus, spawn_agent};
use hypatia_hypothesis::HypothesisAgent;
use hypatia_models::{BuiltModel, ModelConfig, default_sampling};
use hypatia_planner::PlannerAgent;
use hypatia_project::Project;
use hypatia_research::ModelIdentity;
use hypatia_retriever::Retriever;
use hypatia_reviewer::Reviewer;

/// Requests an agent's inbox holds before senders wait.
const INBOX: usize = 64;

/// Model calls at once when the configuration does not say (`max_sequences`).
pub const DEFAULT_PARALLEL_CALLS: usize = 4;

/// A model call taking longer than this is abandoned (and retried), unless the user says otherwise.
pub const DEFAULT_CALL_TIMEOUT: Duration = Duration::from_secs(600);

pub struct Session {
    bus: Bus,
    agents: Vec<AgentHandle>,
}

impl Session {
    /// Starts the agents. `parallel_calls` bounds the requests each model-using
    /// agent works on at once (the thinker bounds model calls across all of them).
    pub fn start(project: Arc<Project>, thinker: Thinker, parallel_calls: usize) -> Session {
        let bus = Bus::new(project.store());
        let workers = parallel_calls.max(1) * 2;
        let agents = vec![
            spawn_agent(&bus, Arc::new(PlannerAgent::new(thinker.clone())), 1, INBOX),
            spawn_agent(&bus, Arc::new(Retriever::new(project.clone())), 2, INBOX),
            spawn_agent(&bus, Arc::new(HypothesisAgent::new(thinker.clone())), workers, INBOX),
            spawn_agent(&bus, Arc::new(Reviewer::new(project, thinker)), workers, INBOX),
        ];
        Session { bus, agents }
    }

    /// Starts the agents thinking with `built` (the model `identity` names), sampled and bounded as
    /// `config` says.
    pub fn with_model(
        project: Arc<Project>,
        built: BuiltModel,
        identity: &ModelIdentity,
        config: &ModelConfig,
        call_timeout: Duration,
    ) -> Session {
        let thinker = thinker(built, config, call_timeout).with_identity(identity.key());
        Session::start(project, thinker, parallel_calls(config))
    }

    pub fn bus(&self) -> &Bus {
        &self.bus
    }

    /// Stops every agent (cancelling what they are doing) and waits for them.
    pub async fn stop(self) {
        for agent in self.agents {
            agent.shutdown(&self.bus).await;
        }
    }
}

/// One thinker over `built`, sampled and bounded as `config` says: what every use case of a model
/// (a review, a quick answer, the judge's evaluation) calls it through.
pub fn thinker(built: BuiltModel, config: &ModelConfig, call_timeout: Duration) -> Thinker {
    Thinker::new(
        built.llm,
        built.prompts,
        ThinkerSettings {
            sampling: default_sampling(&config.settings.generation),
            parallel_calls: parallel_calls(config),
            call_timeout: call_timeout.max(Duration::from_secs(1)),
        },
    )
}

/// Model calls in flight at once: the configured `max_sequences`, else [`DEFAULT_PARALLEL_CALLS`].
pub fn parallel_calls(config: &ModelConfig) -> usize {
    config
        .settings
        .model
        .max_sequences
        .map_or(DEFAULT_PARALLEL_CALLS, |n| n.max(1) as usize)
}
