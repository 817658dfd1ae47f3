use std::collections::HashMap;

use super::*;

fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    move |name| map.get(name).cloned()
}

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).expect("write config");
}

#[test]
fn later_layers_override_earlier_ones() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("config.toml");
    write(
        &user,
        "[model]\nthreads = 2\ncontext_tokens = 1024\n\n[generation]\ntemperature = 0.1\nmax_tokens = 50\n",
    );
    let project = ModelSettings {
        model: ModelSection {
            context_tokens: Some(2048),
            path: Some("models/a.gguf".into()),
            ..ModelSection::default()
        },
        generation: GenerationSection {
            max_tokens: Some(70),
            ..GenerationSection::default()
        },
        ..ModelSettings::default()
    };
    let root = dir.path().join("proj");
    let env = env_of(&[
        ("HYPATIA_CONFIG", user.to_str().expect("utf8")),
        ("HYPATIA_THREADS", "3"),
    ]);
    let config = ModelConfig::resolve(Some((&root, &project)), &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.model.threads, Some(3), "environment over user file");
    assert_eq!(
        config.settings.model.context_tokens,
        Some(2048),
        "project over user file"
    );
    assert_eq!(
        config.settings.generation.temperature,
        Some(0.1),
        "user file when nothing overrides it"
    );
    assert_eq!(config.settings.generation.max_tokens, Some(70));
    assert_eq!(
        config.settings.model.path,
        Some(root.join("models/a.gguf")),
        "relative to the project"
    );
    assert_eq!(config.backend, Some(BackendKind::Llama));

    let flags = ModelFlags {
        model: Some("/m/b.gguf".into()),
        ..ModelFlags::default()
    };
    let config = ModelConfig::resolve(Some((&root, &project)), &env, &flags).expect("resolve");
    assert_eq!(
        config.settings.model.path,
        Some(PathBuf::from("/m/b.gguf")),
        "flags over everything"
    );
    assert!(config.layers.iter().all(|layer| layer.applied), "{:?}", config.layers);
}

#[test]
fn nothing_configured_means_no_backend_even_with_an_api_key_around() {
    let env = env_of(&[("HYPATIA_CONFIG", "none"), ("OPENAI_API_KEY", "sk-secret")]);
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.backend, None, "an API key alone must not pick a cloud backend");
}

#[test]
fn openai_flags_pick_the_openai_backend() {
    let env = env_of(&[("HYPATIA_CONFIG", "none"), ("HYPATIA_MODEL", "/m/a.gguf")]);
    let flags = ModelFlags {
        openai_base_url: Some("http://127.0.0.1:8080/v1".into()),
        ..ModelFlags::default()
    };
    let config = ModelConfig::resolve(None, &env, &flags).expect("resolve");
    assert_eq!(config.backend, Some(BackendKind::Openai));
}

#[test]
fn api_key_in_a_project_file_is_refused() {
    let project = ModelSettings {
        openai: OpenAiSection {
            api_key: Some("sk-secret".into()),
            ..OpenAiSection::default()
        },
        ..ModelSettings::default()
    };
    let env = env_of(&[("HYPATIA_CONFIG", "none")]);
    let error =
        ModelConfig::resolve(Some((Path::new("/p"), &project)), &env, &ModelFlags::default()).expect_err("refused");
    let message = error.to_string();
    assert!(
        message.contains("api_key") && !message.contains("sk-secret"),
        "{message}"
    );
}

#[test]
fn secrets_are_masked_in_every_rendering() {
    let env = env_of(&[("HYPATIA_CONFIG", "none"), ("OPENAI_API_KEY", "sk-very-secret")]);
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.openai.api_key.as_deref(), Some("sk-very-secret"));
    for rendering in [
        config.to_toml_masked(),
        format!("{config:?}"),
        serde_json::to_string(&config).expect("json"),
    ] {
        assert!(!rendering.contains("sk-very-secret"), "{rendering}");
    }
    assert!(config.to_toml_masked().contains(MASK));
}

#[test]
fn bad_values_name_their_source() {
    let env = env_of(&[("HYPATIA_CONFIG", "none"), ("HYPATIA_THREADS", "many")]);
    let error = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect_err("bad number");
    assert!(error.to_string().contains("HYPATIA_THREADS"), "{error}");

    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("config.toml");
    write(&user, "[model]\nthreds = 2\n");
    let env = env_of(&[("HYPATIA_CONFIG", user.to_str().expect("utf8"))]);
    let error = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect_err("typo");
    let message = error.to_string();
    assert!(
        message.contains("config.toml") && message.contains("line 2") && message.contains("threds"),
        "{message}"
    );
}

#[test]
fn bare_model_name_is_found_in_the_models_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("tiny.gguf"), b"GGUF").expect("write");
    let env = env_of(&[
        ("HYPATIA_CONFIG", "none"),
        ("HYPATIA_MODELS_DIR", dir.path().to_str().expect("utf8")),
        ("HYPATIA_MODEL", "tiny.gguf"),
    ]);
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.model.path, Some(dir.path().join("tiny.gguf")));
}

#[test]
fn the_highest_layer_naming_a_model_picks_the_backend() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("config.toml");
    write(
        &user,
        "[model]\nbackend = \"openai\"\n\n[openai]\nmodel = \"served\"\nbase_url = \"http://127.0.0.1:1/v1\"\n",
    );
    let env = env_of(&[
        ("HYPATIA_CONFIG", user.to_str().expect("utf8")),
        ("HYPATIA_MODEL", "/m/local.gguf"),
    ]);
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(
        config.backend,
        Some(BackendKind::Llama),
        "a GGUF named in the environment beats the user file"
    );

    let project = ModelSettings {
        model: ModelSection {
            path: Some("local.gguf".into()),
            ..ModelSection::default()
        },
        ..ModelSettings::default()
    };
    let env = env_of(&[
        ("HYPATIA_CONFIG", user.to_str().expect("utf8")),
        ("OPENAI_BASE_URL", "http://x/v1"),
    ]);
    let config =
        ModelConfig::resolve(Some((Path::new("/p"), &project)), &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(
        config.backend,
        Some(BackendKind::Llama),
        "the project's GGUF beats the user file; OPENAI_BASE_URL picks nothing"
    );
}

#[test]
fn empty_environment_variables_are_unset() {
    let env = env_of(&[
        ("HYPATIA_CONFIG", "none"),
        ("HYPATIA_MODEL", ""),
        ("HYPATIA_BACKEND", " "),
    ]);
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.model.path, None);
    assert_eq!(config.backend, None);
}

#[test]
fn a_bare_model_name_in_a_project_file_is_found_next_to_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("m.gguf"), b"GGUF").expect("write");
    let project = ModelSettings {
        model: ModelSection {
            path: Some("m.gguf".into()),
            ..ModelSection::default()
        },
        ..ModelSettings::default()
    };
    let env = env_of(&[("HYPATIA_CONFIG", "none")]);
    let config = ModelConfig::resolve(Some((dir.path(), &project)), &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.model.path, Some(dir.path().join("m.gguf")));
}

#[test]
fn the_embedding_model_is_layered_like_the_generation_model() {
    let dir = tempfile::tempdir().expect("tempdir");
    let user = dir.path().join("config.toml");
    write(
        &user,
        "[embedding]\nbackend = \"openai\"\nmodel = \"nomic-embed-text\"\nbase_url = \"http://127.0.0.1:11434/v1\"\nquery_prefix = \"search_query: \"\n",
    );
    let root = dir.path().join("proj");
    std::fs::create_dir_all(&root).expect("mkdir");
    write(&root.join("minilm.gguf"), "not a model, but a file");
    write(
        &root.join(PROJECT_FILE),
        "[project]\nname = \"p\"\n\n[embedding]\npath = \"minilm.gguf\"\nthreads = 1\n",
    );
    let project = project_settings(&root).expect("project settings");
    let env = env_of(&[("HYPATIA_CONFIG", user.to_str().expect("utf-8"))]);

    // The user file alone: a served model.
    let config = ModelConfig::resolve(None, &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.embedding.backend, Some(BackendKind::Openai));
    assert_eq!(
        config.settings.embedding.query_prefix.as_deref(),
        Some("search_query: ")
    );

    // The project names a file, relative to itself: the engine, and the served model is gone.
    let config = ModelConfig::resolve(Some((&root, &project)), &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.embedding.backend, Some(BackendKind::Llama));
    assert_eq!(config.settings.embedding.path, Some(root.join("minilm.gguf")));
    assert_eq!(config.settings.embedding.model, None);
    assert_eq!(config.settings.embedding.threads, Some(1));
    // Prefixes set below stay: they belong to the texts, not to where the model runs.
    assert_eq!(
        config.settings.embedding.query_prefix.as_deref(),
        Some("search_query: ")
    );

    // The environment, then the flag, each over the one before.
    let env = env_of(&[
        ("HYPATIA_CONFIG", user.to_str().expect("utf-8")),
        ("HYPATIA_EMBEDDING_MODEL", "/models/env.gguf"),
    ]);
    let config = ModelConfig::resolve(Some((&root, &project)), &env, &ModelFlags::default()).expect("resolve");
    assert_eq!(config.settings.embedding.path, Some(PathBuf::from("/models/env.gguf")));
    let flags = ModelFlags {
        embedding_model: Some("/models/flag.gguf".into()),
        ..ModelFlags::default()
    };
    let config = ModelConfig::resolve(Some((&root, &project)), &env, &flags).expect("resolve");
    assert_eq!(config.settings.embedding.path, Some(PathBuf::from("/models/flag.gguf")));
    assert_eq!(config.settings.embedding.backend, Some(BackendKind::Llama));
    // The generation model is untouched by all of it.
    assert_eq!(config.backend, None);

    let bad = env_of(&[("HYPATIA_CONFIG", "none"), ("HYPATIA_EMBEDDING_THREADS", "many")]);
    let error = ModelConfig::resolve(None, &bad, &ModelFlags::default())
        .expect_err("refused")
        .to_string();
    assert!(error.contains("HYPATIA_EMBEDDING_THREADS"), "{error}");
}
