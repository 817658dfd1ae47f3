//! The bus the agents talk over.
//!
//! Agents are tokio tasks behind cloneable handles. A request is an
//! [`Envelope`](hypatia_research::Envelope) journaled in the project store *before* it is
//! delivered; the answering agent journals its reply before the requester sees it. A run is
//! therefore its journal, and resuming a run is folding that journal ([`RunJournal::record`]).
//!
//! Channels: requests go into each agent's bounded inbox; replies come back
//! on oneshot channels and never wait, so no cycle of bounded channels can
//! deadlock. Subscribers read a broadcast stream that never slows the agents
//! (a lagging subscriber misses messages and can re-read the journal).

mod agent;
mod bus;
mod error;
mod journal;

pub use agent::{Agent, AgentHandle, SHUTDOWN_GRACE, spawn_agent};
pub use bus::{Bus, Delivery};
pub use error::BusError;
pub use journal::{Journaled, RunJournal};
