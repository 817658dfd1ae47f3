//! Which model to think with, and how: layered from the user config file, the project's
//! `hypatia.toml`, the environment and command-line flags (each over the one before).
//!
//! Nothing here picks a backend the user did not ask for: with no model configured the answer is an
//! error that says how to configure one, never a silent fall-back to a cloud API.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The project's settings file, whose model sections are one layer.
pub const PROJECT_FILE: &str = "hypatia.toml";

/// A configuration file or variable that cannot be used, named with what is wrong.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {message}")]
    Invalid { path: PathBuf, message: String },
    #[error("{path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BackendKind {
    /// In process, through llama.cpp.
    Llama,
    /// Any OpenAI-compatible HTTP endpoint.
    Openai,
}

impl std::str::FromStr for BackendKind {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "llama" => Ok(BackendKind::Llama),
            "openai" => Ok(BackendKind::Openai),
            other => Err(format!("unknown backend `{other}` (expected llama or openai)")),
        }
    }
}

/// `[model]`: the backend and the in-process engine's settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// A GGUF file. Relative paths are relative to the file that names them; a bare file name that is
    /// not there is looked up in `models_dir`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompts_dir: Option<PathBuf>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context_tokens: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_layers: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_sequences: Option<u32>,
    /// Reuse the KV cache of shared prompt prefixes (default true). Off, together with
    /// `max_sequences = 1`, every answer depends only on its prompt and seed: runs repeat exactly.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prefix_cache: Option<bool>,
}

/// `[openai]`: an OpenAI-compatible endpoint (OpenAI, vLLM, llama-server, Ollama, llama-cpp-python).
#[derive(Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OpenAiSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Only in the user config file or `OPENAI_API_KEY`: a project file may be shared.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "masked")]
    pub api_key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_retries: Option<u32>,
    /// auto (json_schema, falling back to json_object), json_schema, or json_object.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub structured_output: Option<String>,
}

impl fmt::Debug for OpenAiSection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OpenAiSection")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| MASK))
            .field("timeout_seconds", &self.timeout_seconds)
            .field("max_retries", &self.max_retries)
            .field("structured_output", &self.structured_output)
            .finish()
    }
}

/// `[generation]`: default sampling for every call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GenerationSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seed: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
}

/// `[embedding]`: the model that turns passages and queries into vectors for dense and hybrid
/// search: a GGUF file run in process, or a model served on an OpenAI-compatible `/v1/embeddings`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmbeddingSection {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backend: Option<BackendKind>,
    /// A GGUF embedding model (`hypatia models convert` makes one from a sentence-transformers
    /// folder). Relative paths as for `[model] path`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub path: Option<PathBuf>,
    /// The served model's name, for the openai backend.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// The server, for the openai backend; default `[openai] base_url`. The API key is sent only
    /// when this is the `[openai]` endpoint.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub base_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub threads: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gpu_layers: Option<u32>,
    /// Tokens per forward pass of the in-process engine.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub batch_tokens: Option<u32>,
    /// Put before each query / each passage, for models trained with instructions
    /// (e5: "query: " / "passage: "; nomic: "search_query: " / "search_document: ").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub query_prefix: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub document_prefix: Option<String>,
}

/// The model sections of one config file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ModelSettings {
    #[serde(default)]
    pub model: ModelSection,
    #[serde(default)]
    pub openai: OpenAiSection,
    #[serde(default)]
    pub generation: GenerationSection,
    #[serde(default, skip_serializing_if = "is_default")]
    pub embedding: EmbeddingSection,
}

fn is_default(section: &EmbeddingSection) -> bool {
    *section == EmbeddingSection::default()
}

pub const MASK: &str = "********";

fn masked<S: serde::Serializer>(value: &Option<String>, serializer: S) -> Result<S::Ok, S::Error> {
    match value {
        Some(_) => serializer.serialize_str(MASK),
        None => serializer.serialize_none(),
    }
}

/// Values given on the command line.
#[derive(Debug, Clone, Default)]
pub struct ModelFlags {
    pub model: Option<PathBuf>,
    pub openai_base_url: Option<String>,
    pub openai_model: Option<String>,
    /// `--embedding-model FILE`: a GGUF embedding model run in process.
    pub embedding_model: Option<PathBuf>,
}

/// One layer that contributed, for `hypatia config show`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Layer {
    pub name: String,
    pub applied: bool,
}

/// The effective model configuration.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelConfig {
    pub settings: ModelSettings,
    /// The backend to use, when the layers say which.
    pub backend: Option<BackendKind>,
    pub models_dir: PathBuf,
    pub prompts_dir: PathBuf,
    pub layers: Vec<Layer>,
}

/// Where the user config file is: `HYPATIA_CONFIG` (empty or `none`: no user file), else the platform
/// config folder (`~/.config/hypatia/config.toml` on Linux).
pub fn user_config_path(env: &dyn Fn(&str) -> Option<String>) -> Option<PathBuf> {
    match env("HYPATIA_CONFIG") {
        Some(value) if value.is_empty() || value == "none" => None,
        Some(value) => Some(PathBuf::from(value)),
        None => directories::ProjectDirs::from("", "", "hypatia").map(|dirs| dirs.config_dir().join("config.toml")),
    }
}

fn default_data_dir() -> PathBuf {
    directories::ProjectDirs::from("", "", "hypatia")
        .map_or_else(|| PathBuf::from(".hypatia"), |dirs| dirs.data_dir().to_path_buf())
}

impl ModelConfig {
    /// Resolves the layers. `project` is the project's root and model settings, when there is a project.
    pub fn resolve(
        project: Option<(&Path, &ModelSettings)>,
        env: &dyn Fn(&str) -> Option<String>,
        flags: &ModelFlags,
    ) -> Result<ModelConfig, ConfigError> {
        let mut settings = ModelSettings::default();
        // The highest layer that names or implies a backend decides it.
        let mut backend: Option<BackendKind> = None;
        let mut layers = Vec::new();
        let user_file = user_config_path(env);
        let mut prompts_dir = None;
        if let Some(path) = &user_file {
            let applied = path.is_file();
            if applied {
                let user = load_settings(path)?;
                let base = path.parent().unwrap_or(Path::new("."));
                backend = implied_backend(&user).or(backend);
                overlay(&mut settings, relative_to(user, base));
            }
            layers.push(Layer {
                name: format!("user config {}", path.display()),
                applied,
            });
            prompts_dir = path.parent().map(|dir| dir.join("prompts"));
        }
        if let Some((root, project_settings)) = project {
            if project_settings.openai.api_key.is_some() {
                return Err(ConfigError::Invalid {
                    path: root.join(PROJECT_FILE),
                    message: "[openai] api_key does not belong in a project file, which may be shared or committed; \
                              set OPENAI_API_KEY or put it in the user config file"
                        .into(),
                });
            }
            backend = implied_backend(project_settings).or(backend);
            overlay(&mut settings, relative_to(project_settings.clone(), root));
            layers.push(Layer {
                name: format!("project {}", root.join(PROJECT_FILE).display()),
                applied: true,
            });
        }
        let env_layer = from_env(env)?;
        let env_applied = env_layer != ModelSettings::default();
        let env_backend = env("HYPATIA_BACKEND")
            .filter(|value| !value.trim().is_empty())
            .map(|text| text.parse::<BackendKind>())
            .transpose()
            .map_err(|message| ConfigError::Invalid {
                path: PathBuf::from("$HYPATIA_BACKEND"),
                message,
            })?;
        // OPENAI_BASE_URL is often set for other tools: alone it picks nothing.
        let env_implied = env_backend.or_else(|| {
            if env_layer.model.path.is_some() {
                Some(BackendKind::Llama)
            } else if env_layer.openai.model.is_some() {
                Some(BackendKind::Openai)
            } else {
                None
            }
        });
        backend = env_implied.or(backend);
        overlay(&mut settings, env_layer);
        layers.push(Layer {
            name: "environment".into(),
            applied: env_applied || env_backend.is_some(),
        });
        let flag_backend = if flags.model.is_some() {
            Some(BackendKind::Llama)
        } else if flags.openai_base_url.is_some() || flags.openai_model.is_some() {
            Some(BackendKind::Openai)
        } else {
            None
        };
        let flag_layer = ModelSettings {
            model: ModelSection {
                path: flags.model.clone(),
                ..ModelSection::default()
            },
            openai: OpenAiSection {
                base_url: flags.openai_base_url.clone(),
                model: flags.openai_model.clone(),
                ..OpenAiSection::default()
            },
            generation: GenerationSection::default(),
            embedding: EmbeddingSection {
                backend: flags.embedding_model.as_ref().map(|_| BackendKind::Llama),
                path: flags.embedding_model.clone(),
                ..EmbeddingSection::default()
            },
        };
        layers.push(Layer {
            name: "command line".into(),
            applied: flag_backend.is_some() || flags.embedding_model.is_some(),
        });
        overlay(&mut settings, flag_layer);

        let backend = flag_backend.or(backend);
        settings.model.backend = backend;
        let models_dir = settings
            .model
            .models_dir
            .clone()
            .unwrap_or_else(|| default_data_dir().join("models"));
        let prompts_dir = settings
            .model
            .prompts_dir
            .clone()
            .or(prompts_dir)
            .unwrap_or_else(|| default_data_dir().join("prompts"));
        // A bare file name that is not in the current folder is looked up among the downloaded models.
        for path in [&mut settings.model.path, &mut settings.embedding.path] {
            if let Some(found) = path.as_ref()
                && !found.exists()
                && found.components().count() == 1
                && models_dir.join(found).exists()
            {
                *path = Some(models_dir.join(found));
            }
        }
        // The embedding backend: as named, else implied by a file or a served model.
        if settings.embedding.backend.is_none() {
            settings.embedding.backend = if settings.embedding.path.is_some() {
                Some(BackendKind::Llama)
            } else if settings.embedding.model.is_some() {
                Some(BackendKind::Openai)
            } else {
                None
            };
        }
        Ok(ModelConfig {
            settings,
            backend,
            models_dir,
            prompts_dir,
            layers,
        })
    }

    /// The configuration as TOML with secrets masked, for `hypatia config show`.
    pub fn to_toml_masked(&self) -> String {
        toml::to_string_pretty(&self.settings).unwrap_or_default()
    }
}

/// The backend a layer names, or implies by naming a GGUF file or a served model.
fn implied_backend(layer: &ModelSettings) -> Option<BackendKind> {
    layer.model.backend.or_else(|| {
        if layer.model.path.is_some() {
            Some(BackendKind::Llama)
        } else if layer.openai.model.is_some() || layer.openai.base_url.is_some() {
            Some(BackendKind::Openai)
        } else {
            None
        }
    })
}

fn read(path: &Path) -> Result<String, ConfigError> {
    std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.to_owned(),
        source,
    })
}

fn load_settings(path: &Path) -> Result<ModelSettings, ConfigError> {
    let text = read(path)?;
    toml::from_str(&text).map_err(|error| ConfigError::Invalid {
        path: path.to_owned(),
        message: describe_toml_error(&text, &error),
    })
}

/// The configuration in effect: the user file, the project's file when there is a project at
/// `project_root`, this process's environment, then `flags`.
pub fn resolve_config(project_root: Option<&Path>, flags: &ModelFlags) -> Result<ModelConfig, ConfigError> {
    let project = project_root
        .map(|root| project_settings(root).map(|settings| (root, settings)))
        .transpose()?;
    let env = |name: &str| std::env::var(name).ok();
    ModelConfig::resolve(project.as_ref().map(|(root, settings)| (*root, settings)), &env, flags)
}

/// The model sections of a project's `hypatia.toml` (`[model]`, `[openai]`, `[generation]`); the
/// project's own sections are the project's to check.
pub fn project_settings(root: &Path) -> Result<ModelSettings, ConfigError> {
    #[derive(Deserialize)]
    struct ProjectFile {
        #[serde(default)]
        model: ModelSection,
        #[serde(default)]
        openai: OpenAiSection,
        #[serde(default)]
        generation: GenerationSection,
        #[serde(default)]
        embedding: EmbeddingSection,
        #[serde(flatten)]
        _project: toml::Table,
    }
    let path = root.join(PROJECT_FILE);
    let text = read(&path)?;
    let file: ProjectFile = toml::from_str(&text).map_err(|error| ConfigError::Invalid {
        path: path.clone(),
        message: describe_toml_error(&text, &error),
    })?;
    Ok(ModelSettings {
        model: file.model,
        openai: file.openai,
        generation: file.generation,
        embedding: file.embedding,
    })
}

/// A TOML error as `line N: message`.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    hypatia_core::at_line(text, error.span().map(|span| span.start), error.message())
}

fn relative_to(mut settings: ModelSettings, base: &Path) -> ModelSettings {
    // A bare file name stays bare (to be looked up in the models folder) unless it is next to the file.
    let resolve = |path: &mut Option<PathBuf>| {
        if let Some(p) = path
            && p.is_relative()
            && (p.components().count() > 1 || base.join(&*p).exists())
        {
            *p = base.join(&*p);
        }
    };
    resolve(&mut settings.model.path);
    resolve(&mut settings.embedding.path);
    for dir in [&mut settings.model.models_dir, &mut settings.model.prompts_dir] {
        if let Some(p) = dir
            && p.is_relative()
        {
            *p = base.join(&*p);
        }
    }
    settings
}

fn from_env(env: &dyn Fn(&str) -> Option<String>) -> Result<ModelSettings, ConfigError> {
    // An empty variable is unset, not an empty setting.
    let env = &|name: &str| env(name).filter(|value| !value.trim().is_empty());
    fn number<T: std::str::FromStr>(
        env: &dyn Fn(&str) -> Option<String>,
        name: &str,
    ) -> Result<Option<T>, ConfigError> {
        env(name)
            .map(|text| {
                text.trim().parse::<T>().map_err(|_| ConfigError::Invalid {
                    path: PathBuf::from(format!("${name}")),
                    message: format!("`{text}` is not a valid number"),
                })
            })
            .transpose()
    }
    Ok(ModelSettings {
        model: ModelSection {
            backend: None,
            path: env("HYPATIA_MODEL").map(PathBuf::from),
            models_dir: env("HYPATIA_MODELS_DIR").map(PathBuf::from),
            prompts_dir: env("HYPATIA_PROMPTS_DIR").map(PathBuf::from),
            context_tokens: number(env, "HYPATIA_CONTEXT_TOKENS")?,
            threads: number(env, "HYPATIA_THREADS")?,
            gpu_layers: number(env, "HYPATIA_GPU_LAYERS")?,
            max_sequences: number(env, "HYPATIA_MAX_SEQUENCES")?,
            prefix_cache: match env("HYPATIA_PREFIX_CACHE").as_deref() {
                None | Some("") => None,
                Some("1" | "true" | "on") => Some(true),
                Some("0" | "false" | "off") => Some(false),
                Some(other) => {
                    return Err(ConfigError::Invalid {
                        path: PathBuf::from("$HYPATIA_PREFIX_CACHE"),
                        message: format!("`{other}` is not on/off, true/false or 1/0"),
                    });
                }
            },
        },
        openai: OpenAiSection {
            base_url: env("OPENAI_BASE_URL"),
            model: env("HYPATIA_OPENAI_MODEL"),
            api_key: env("OPENAI_API_KEY").filter(|key| !key.is_empty()),
            ..OpenAiSection::default()
        },
        generation: GenerationSection::default(),
        embedding: EmbeddingSection {
            path: env("HYPATIA_EMBEDDING_MODEL").map(PathBuf::from),
            model: env("HYPATIA_EMBEDDING_OPENAI_MODEL"),
            threads: number(env, "HYPATIA_EMBEDDING_THREADS")?,
            ..EmbeddingSection::default()
        },
    })
}

/// Fields set in `upper` replace those in `base`.
fn overlay(base: &mut ModelSettings, upper: ModelSettings) {
    macro_rules! take {
        ($section:ident: $($field:ident),*) => {
            $( if upper.$section.$field.is_some() { base.$section.$field = upper.$section.$field; } )*
        };
    }
    take!(model: backend, path, models_dir, prompts_dir, context_tokens, threads, gpu_layers, max_sequences, prefix_cache);
    take!(openai: base_url, model, api_key, timeout_seconds, max_retries, structured_output);
    take!(generation: temperature, top_p, seed, max_tokens);
    // A layer that names an embedding file or served model replaces the other kind below it.
    if upper.embedding.path.is_some() && upper.embedding.model.is_none() {
        base.embedding.model = None;
        base.embedding.backend = None;
    }
    if upper.embedding.model.is_some() && upper.embedding.path.is_none() {
        base.embedding.path = None;
        base.embedding.backend = None;
    }
    take!(embedding: backend, path, model, base_url, threads, gpu_layers, batch_tokens, query_prefix, document_prefix);
}

#[cfg(test)]
mod tests;
