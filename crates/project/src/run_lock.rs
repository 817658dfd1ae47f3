//! One process at a time works on a run: it holds an exclusive lock on
//! `.hypatia/runs/RUN.lock` while it does. The operating system drops the
//! lock when the process dies, however it dies, so a killed run shows as
//! interrupted and can be resumed at once.

use std::fs::{File, TryLockError};
use std::path::PathBuf;

use crate::{DATA_DIR, Project, ProjectError};

/// Held while a process works on a run.
#[derive(Debug)]
pub struct RunLock {
    _file: File,
}

impl Project {
    fn run_lock_path(&self, run_id: &str) -> Result<PathBuf, ProjectError> {
        // Run ids come from the user on `resume`: keep them to one plain file name.
        if run_id.is_empty()
            || !run_id
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
        {
            return Err(ProjectError::Config {
                path: PathBuf::from(run_id),
                message: "not a run id (letters, digits, `-` and `_` only)".into(),
            });
        }
        let dir = self.root().join(DATA_DIR).join("runs");
        std::fs::create_dir_all(&dir).map_err(ProjectError::io(&dir))?;
        Ok(dir.join(format!("{run_id}.lock")))
    }

    /// Takes the run's lock, or says that another process holds it.
    pub fn lock_run(&self, run_id: &str) -> Result<RunLock, ProjectError> {
        let path = self.run_lock_path(run_id)?;
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(ProjectError::io(&path))?;
        match file.try_lock() {
            Ok(()) => Ok(RunLock { _file: file }),
            Err(TryLockError::WouldBlock) => Err(ProjectError::RunBusy {
                run_id: run_id.to_owned(),
            }),
            Err(TryLockError::Error(error)) => Err(ProjectError::io(&path)(error)),
        }
    }

    /// Whether some process is working on the run right now.
    pub fn run_is_active(&self, run_id: &str) -> bool {
        match self.lock_run(run_id) {
            Ok(_released_on_drop) => false,
            Err(ProjectError::RunBusy { .. }) => true,
            Err(_) => false,
        }
    }
}
