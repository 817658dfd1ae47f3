//! A session: the bus on a project's store and the four agents on it,
//! sharing one model through one [`Thinker`]. The headless job and the
//! terminal UI both run reviews through a session.

mod files;
mod graph;
mod runs;
mod steering;

use std::sync::Arc;

use hypatia_agentkit::Thinker;
use hypatia_bus::{AgentHandle, Bus, spawn_agent};
use hypatia_hypothesis::HypothesisAgent;
use hypatia_planner::PlannerAgent;
use hypatia_project::Project;
use hypatia_retriever::Retriever;
use hypatia_reviewer::Reviewer;

pub use files::{export_to_dir, write_atomically};
pub use graph::{PaperKeys, all_papers, citation_graph, citations_among};
pub use hypatia_planner::{CRITIQUE_MAX_CHARS, Steered};
pub use runs::{RunError, document_of, load_document, load_record, shown_status};
pub use steering::{PIN_PASSAGES, SteerAction, steer};

/// Requests an agent's inbox holds before senders wait.
const INBOX: usize = 64;

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
