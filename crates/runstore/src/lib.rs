//! A project's stored runs, as the CLI and the terminal UI read and steer them: a run loaded
//! (its row and its journal folded, through the bus's `RunJournal`), its status as a person should
//! see it, its checked export document and files written whole, and the researcher's steering
//! checked against the run and journaled. Starts no agent and needs no model: whoever drives a run
//! reads the steering from its journal.

mod files;
mod runs;
mod steer;
mod steering;

pub use files::{export_to_dir, write_atomically};
pub use runs::{RunError, document_of, load_document, load_record, load_report, shown_status};
pub use steer::{CRITIQUE_MAX_CHARS, MAX_ROUNDS, Steer, SteerError, Steered};
pub use steering::{PIN_PASSAGES, SteerAction, steer};
