//! `hypatia.toml`: the project's settings, and what marks its folder.

use std::path::Path;

use hypatia_index::Analyzer;
use serde::{Deserialize, Serialize};

use crate::ProjectError;
use crate::model_config::{GenerationSection, ModelSection, ModelSettings, OpenAiSection};

pub const CONFIG_FILE: &str = "hypatia.toml";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProjectConfig {
    pub project: ProjectSection,
    #[serde(default)]
    pub index: IndexSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub model: ModelSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub openai: OpenAiSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub generation: GenerationSection,
}

fn is_default<T: Default + PartialEq>(value: &T) -> bool {
    *value == T::default()
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
            model: ModelSection::default(),
            openai: OpenAiSection::default(),
            generation: GenerationSection::default(),
        }
    }

    pub fn load(path: &Path) -> Result<ProjectConfig, ProjectError> {
        let text = std::fs::read_to_string(path).map_err(ProjectError::io(path))?;
        toml::from_str(&text).map_err(|e| ProjectError::Config {
            path: path.to_owned(),
            message: describe_toml_error(&text, &e),
        })
    }

    /// The model sections, for [`crate::ModelConfig::resolve`].
    pub fn model_settings(&self) -> ModelSettings {
        ModelSettings {
            model: self.model.clone(),
            openai: self.openai.clone(),
            generation: self.generation.clone(),
        }
    }

    pub fn to_toml(&self) -> String {
        let body = toml::to_string_pretty(self).unwrap_or_default();
        format!(
            "# Hypatia project settings.\n# [index] analyzer: english (default), english-keep-stopwords or plain;\n# changing it rebuilds the index on next use.\n\n{body}"
        )
    }
}

/// A TOML error as `line N: message`.
pub(crate) fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let line = error.span().map(|span| {
        text.as_bytes()[..span.start.min(text.len())]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1
    });
    match line {
        Some(line) => format!("line {line}: {}", error.message()),
        None => error.message().to_owned(),
    }
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
