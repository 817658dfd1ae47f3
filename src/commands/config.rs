use std::path::Path;
use std::process::ExitCode;

use hypatia_models::ModelFlags;
use serde_json::json;

use crate::cli::ConfigCommand;

pub async fn run(project: Option<&Path>, command: ConfigCommand) -> anyhow::Result<ExitCode> {
    let ConfigCommand::Show { json } = command;
    let config = super::model_config(project, &ModelFlags::default())?;
    let backend = config
        .backend
        .map_or("none configured".to_string(), |kind| format!("{kind:?}").to_lowercase());
    if json {
        let out = json!({
            "backend": config.backend,
            "settings": config.settings,
            "models_dir": config.models_dir,
            "prompts_dir": config.prompts_dir,
            "layers": config.layers,
        });
        println!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(ExitCode::SUCCESS);
    }
    println!("# Effective configuration (secrets masked). Layers, later over earlier:");
    for layer in &config.layers {
        println!("#   {} {}", if layer.applied { "[x]" } else { "[ ]" }, layer.name);
    }
    println!("# backend: {backend}");
    println!("# models folder: {}", config.models_dir.display());
    println!("# prompts folder: {}", config.prompts_dir.display());
    println!();
    print!("{}", config.to_toml_masked());
    Ok(ExitCode::SUCCESS)
}
