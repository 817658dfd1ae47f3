//! The review use case: what `hypatia review`, `hypatia resume`, the terminal UI and the benches
//! all run a review through.
//!
//! A [`Session`] is the bus on a project's store and the four agents on it, sharing one model
//! through one `Thinker`. [`NewReview`] holds the one set of review defaults and becomes the run's
//! settings with what the run records about its model ([`ModelRecord`]: description, file and
//! provenance, with endpoints stripped of credentials). [`InProcess`] starts, pauses, resumes and
//! cancels runs inside a long-lived process (the terminal UI), loading the model on first use.
//! [`gather_evidence`] and [`compose_answer`] are `hypatia answer`: a few cited sentences from the
//! library, or a plain abstention.

mod answer;
mod in_process;
mod provenance;
mod review;
mod session;

pub use answer::{AnswerCitation, AnswerError, AnswerOptions, CitedAnswer, Gathered, compose_answer, gather_evidence};
pub use in_process::InProcess;
pub use provenance::{model_change, provenance, without_credentials};
pub use review::{ModelRecord, NewReview, Resumption, ReviewError, model_config_in, start_review, stored_settings};
pub use session::{DEFAULT_CALL_TIMEOUT, DEFAULT_PARALLEL_CALLS, Session, parallel_calls, thinker};
