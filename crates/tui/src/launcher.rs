//! Starting and controlling review runs from the UI. The binary provides the [`Launcher`] (it knows
//! the configured model); without one the UI still searches, follows and explores runs.

use std::future::Future;
use std::pin::Pin;

pub type Answer<T> = Pin<Box<dyn Future<Output = Result<T, String>> + Send>>;

/// A review to start: what the run view's form asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    pub question: String,
    pub hypotheses: u32,
    pub rounds: u32,
}

pub trait Launcher: Send + Sync + 'static {
    /// Starts a review in this process; answers with its run id once it is journaled.
    fn start(&self, run: NewRun) -> Answer<String>;
    /// Stops working on a run, leaving it resumable (as Ctrl-C does for `hypatia review`).
    fn pause(&self, run_id: String) -> Answer<()>;
    /// Goes on with a paused or interrupted run.
    fn resume(&self, run_id: String) -> Answer<()>;
    /// Ends a run for good, as `cancelled`; what it found so far stays.
    fn cancel(&self, run_id: String) -> Answer<()>;
    /// Whether this process is working on the run now.
    fn is_active(&self, run_id: &str) -> bool;
}

/// The new-run form: question, hypotheses and rounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRunForm {
    pub question: String,
    pub hypotheses: String,
    pub rounds: String,
    pub field: usize,
    pub problem: Option<String>,
}

impl Default for NewRunForm {
    fn default() -> Self {
        NewRunForm {
            question: String::new(),
            hypotheses: hypatia_research::defaults::HYPOTHESES.to_string(),
            rounds: hypatia_research::defaults::ROUNDS.to_string(),
            field: 0,
            problem: None,
        }
    }
}

impl NewRunForm {
    pub fn field_mut(&mut self) -> &mut String {
        match self.field {
            0 => &mut self.question,
            1 => &mut self.hypotheses,
            _ => &mut self.rounds,
        }
    }

    /// The run to start, or what is wrong with the form.
    pub fn submit(&self) -> Result<NewRun, String> {
        let question = self.question.split_whitespace().collect::<Vec<_>>().join(" ");
        if question.is_empty() {
            return Err("the question is empty".to_owned());
        }
        let number = |name: &str, text: &str, max: u32| match text.trim().parse::<u32>() {
            Ok(n) if (1..=max).contains(&n) => Ok(n),
            _ => Err(format!(
                "{name} must be a whole number from 1 to {max}, not `{}`",
                text.trim()
            )),
        };
        Ok(NewRun {
            question,
            hypotheses: number("hypotheses", &self.hypotheses, 32)?,
            rounds: number("rounds", &self.rounds, 10)?,
        })
    }
}
