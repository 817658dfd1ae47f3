//! Project chores, run as `cargo xtask <task>` (the alias is in `.cargo/config.toml`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use hypatia_gguf::{TinyModelSpec, write_tiny_model};
use sha2::{Digest, Sha256};

#[derive(Parser)]
#[command(about = "Hypatia project chores")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write the tiny random-weight llama model that tests load in llama.cpp.
    TestModel {
        /// Where to write the GGUF file.
        #[arg(long)]
        out: PathBuf,
        /// Seed for the weights: the same seed gives the same file.
        #[arg(long, default_value_t = TinyModelSpec::default().seed)]
        seed: u64,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().task {
        Task::TestModel { out, seed } => test_model(&out, seed),
    }
}

fn test_model(out: &std::path::Path, seed: u64) -> anyhow::Result<()> {
    write_tiny_model(
        out,
        &TinyModelSpec {
            seed,
            ..TinyModelSpec::default()
        },
    )?;
    let bytes = std::fs::read(out).with_context(|| format!("cannot read back {}", out.display()))?;
    println!("{}", out.display());
    println!("sha256 {:x}", Sha256::digest(&bytes));
    Ok(())
}
