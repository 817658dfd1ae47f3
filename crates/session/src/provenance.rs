//! What a run records about the model it ran with, and what differs when it goes on with another.

pub use hypatia_models::without_credentials;
use hypatia_models::{BuiltModel, ModelConfig, default_sampling};
use hypatia_research::{ModelIdentity, RunProvenance};

use crate::ReviewError;
use crate::session::parallel_calls;

/// What the run's report will name as its model, prompts and sampler. Hashing the GGUF reads it once
/// (about a second per gigabyte), which is small beside a review.
pub async fn provenance(
    built: &BuiltModel,
    config: &ModelConfig,
    retrieval: String,
) -> Result<RunProvenance, ReviewError> {
    let model = match &built.local {
        Some(summary) => {
            let (size_bytes, sha256) = hypatia_models::fingerprint(&summary.path).await?;
            ModelIdentity::Local {
                file_name: summary.path.file_name().map_or_else(
                    || summary.path.display().to_string(),
                    |n| n.to_string_lossy().into_owned(),
                ),
                size_bytes,
                sha256,
                parameters: summary.parameters,
                context_tokens: summary.context_tokens,
            }
        }
        None => ModelIdentity::Openai {
            base_url: config
                .settings
                .openai
                .base_url
                .as_deref()
                .map(without_credentials)
                .unwrap_or_default(),
            model: config.settings.openai.model.clone().unwrap_or_default(),
        },
    };
    let sampling = default_sampling(&config.settings.generation);
    Ok(RunProvenance {
        hypatia_version: env!("CARGO_PKG_VERSION").to_owned(),
        prompts_sha256: built.prompts.sha256(),
        prompt_overrides: built
            .prompts
            .overridden()
            .iter()
            .map(|path| path.display().to_string())
            .collect(),
        model,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        parallel_calls: parallel_calls(config) as u32,
        retrieval: Some(retrieval),
    })
}

/// Says so when a run is resumed with another model than it began with: its report would otherwise
/// name only the first. Files are compared by name and size (hashing again would cost a read).
pub fn model_change(began: &ModelIdentity, built: &BuiltModel, config: &ModelConfig) -> Option<String> {
    match (began, &built.local) {
        (
            ModelIdentity::Local {
                file_name, size_bytes, ..
            },
            Some(summary),
        ) => {
            let name = summary
                .path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let size = std::fs::metadata(&summary.path).map(|m| m.len()).unwrap_or(0);
            (name != *file_name || size != *size_bytes).then(|| {
                format!("this run began with {file_name} ({size_bytes} bytes) and goes on with {name} ({size} bytes)")
            })
        }
        (ModelIdentity::Openai { model, .. }, None) => {
            let now = config.settings.openai.model.clone().unwrap_or_default();
            (now != *model).then(|| format!("this run began with the server model {model} and goes on with {now}"))
        }
        (ModelIdentity::Local { file_name, .. }, None) => Some(format!(
            "this run began with the local model {file_name} and goes on with a server model"
        )),
        (ModelIdentity::Openai { model, .. }, Some(_)) => Some(format!(
            "this run began with the server model {model} and goes on with a local GGUF"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn endpoints_are_recorded_without_credentials() {
        assert_eq!(
            without_credentials("https://user:sk-secret@api.example.com/v1?key=sk-2#x"),
            "https://api.example.com/v1"
        );
        assert_eq!(
            without_credentials("http://127.0.0.1:8080/v1"),
            "http://127.0.0.1:8080/v1"
        );
        assert_eq!(without_credentials("http://a:b@host"), "http://host");
    }
}
