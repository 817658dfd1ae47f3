//! The terminal UI's launcher: `hypatia_session::InProcess`, which runs reviews in this process, seen
//! through the UI's `Launcher` trait. The UI crate compiles without the agents; this is where the
//! binary hands them to it.

use hypatia_session::{InProcess, NewReview};
use hypatia_tui::{Answer, Launcher, NewRun};

#[derive(Clone)]
pub struct UiLauncher(pub InProcess);

impl Launcher for UiLauncher {
    fn start(&self, run: NewRun) -> Answer<String> {
        let runs = self.0.clone();
        Box::pin(async move {
            let review = NewReview {
                hypotheses: run.hypotheses,
                rounds: run.rounds,
                ..NewReview::new(&run.question)
            };
            runs.start(review).await
        })
    }

    fn pause(&self, run_id: String) -> Answer<()> {
        let runs = self.0.clone();
        Box::pin(async move { runs.pause(&run_id).await })
    }

    fn resume(&self, run_id: String) -> Answer<()> {
        let runs = self.0.clone();
        Box::pin(async move { runs.resume(&run_id).await })
    }

    fn cancel(&self, run_id: String) -> Answer<()> {
        let runs = self.0.clone();
        Box::pin(async move { runs.cancel(&run_id, "cancelled from the terminal UI").await })
    }

    fn is_active(&self, run_id: &str) -> bool {
        self.0.is_active(run_id)
    }
}
