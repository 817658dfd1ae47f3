//! `hypatia.toml`: the project's settings, and what marks its folder.

use std::path::Path;

use hypatia_index::Analyzer;
use serde::{Deserialize, Serialize};

use crate::ProjectError;

pub const CONFIG_FILE: &str = "hypatia.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub project: ProjectSection,
    #[serde(default)]
    pub index: IndexSection,
    /// The model sections, `[model]`, `[openai]`, `[generation]` and `[embedding]`: read and checked
    /// by `hypatia-models`, which builds the models; kept here so the file round-trips whole.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub openai: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<toml::Table>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub embedding: Option<toml::Table>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectSection {
    pub name: String,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IndexSection {
    /// How text is analysed for search: english, english-keep-stopwords or plain.
    #[serde(default)]
    pub analyzer: Analyzer,
}

impl ProjectConfig {
    pub fn new(name: &str) -> ProjectConfig {
        ProjectConfig {
            project: ProjectSection { name: name.to_owned() },
            index: IndexSection::default(),
            model: None,
            openai: None,
            generation: None,
            embedding: None,
        }
    }

    pub fn load(path: &Path) -> Result<ProjectConfig, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(ProjectError::io(path))?;
        toml::from_str(&text).map_err(|e| ProjectError::Config {
            path: path.to_owned(),
            message: describe_toml_error(&text, &e),
        })
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# Hypatia project settings.\n# [index] analyzer: english (default), english-keep-stopwords or plain;\n# changing it rebuilds the index on next use.\n\n{body}"
        )
    }
}

/// A TOML error as `line N: message`.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    hypatia_core::at_line(text, error.span().map(|span| span.start), error.message())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_round_trips_and_errors_name_the_line() {
        let config = ProjectConfig::new("demo");
        let parsed: ProjectConfig = toml::from_str(&config.to_toml()).expect("round trip");
        assert_eq!(parsed, config);

        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join(CONFIG_FILE);
        std::fs::write(&path, "[project]\nname = \"x\"\n\n[index]\nanalyser = \"plain\"\n").expect("write");
        let err = ProjectConfig::load(&path).expect_err("unknown key");
        let message = err.to_string();
        assert!(message.contains("line 5") && message.contains("analyser"), "{message}");
    }
}
