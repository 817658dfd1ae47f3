//! Finding the project a command works on.

use std::path::{Path, PathBuf};

use crate::{CONFIG_FILE, ProjectError};

/// The folder inside a project that holds its database and index.
pub const DATA_DIR: &str = ".hypatia";

/// The project root: `explicit` (from `--project` or `HYPATIA_PROJECT`) if
/// given, else the nearest folder at or above `start` holding hypatia.toml.
pub fn find_project_root(explicit: Option<&Path>, start: &Path) -> Result<PathBuf, ProjectError> {
    if let Some(dir) = explicit {
        let dir = if dir.is_absolute() {
            dir.to_owned()
        } else {
            start.join(dir)
        };
        if dir.join(CONFIG_FILE).is_file() {
            return Ok(dir);
        }
        return Err(ProjectError::NotAProject { path: dir });
    }
    let mut current = Some(start);
    while let Some(dir) = current {
        if dir.join(CONFIG_FILE).is_file() {
            return Ok(dir.to_owned());
        }
        current = dir.parent();
    }
    Err(ProjectError::NotFound {
        searched: start.to_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_up_like_git_and_honours_explicit_dirs() {
        let root = tempfile::tempdir().expect("tempdir");
        let nested = root.path().join("a/b");
        std::fs::create_dir_all(&nested).expect("mkdir");
        assert!(matches!(
            find_project_root(None, &nested),
            Err(ProjectError::NotFound { .. })
        ));
        std::fs::write(root.path().join(CONFIG_FILE), "").expect("write");
        assert_eq!(find_project_root(None, &nested).expect("found"), root.path());
        assert!(matches!(
            find_project_root(Some(&nested), root.path()),
            Err(ProjectError::NotAProject { .. })
        ));
        assert_eq!(
            find_project_root(Some(Path::new(".")), root.path()).expect("explicit"),
            root.path().join(".")
        );
    }
}
