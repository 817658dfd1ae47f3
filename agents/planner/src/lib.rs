//! The planner. As an agent it turns the question into a plan (sub-questions
//! and search queries, from the model with a schema). As the run's driver it
//! keeps the run's tasks in a `petgraph` graph rebuilt from the journal,
//! sends every ready task (independent ones at once), enforces the budgets,
//! and ends the run saying why.

mod driver;
mod plan;
mod schedule;

pub use driver::{DriveError, RunOutcome, cancel_run, drive, new_run_id, start_run};
pub use plan::PlannerAgent;
pub use schedule::{GAPS_PER_COMPOSITION, Stage, TaskGraph, TaskNode, TaskState, composition_gaps, inspiration_pairs};
