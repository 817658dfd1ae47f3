//! `hypatia`: the command-line edge. Parses arguments, sets up logging and
//! the runtime, runs one command, and turns errors into messages and exit
//! codes. Everything else lives in the library crates.

mod cli;
mod commands;
mod output;

use std::process::ExitCode;

use clap::Parser;

fn main() -> ExitCode {
    let cli = cli::Cli::parse();
    init_logging(cli.verbose, log_file(&cli).as_deref());
    quiet_contained_panics();
    // A model file's first load runs in a child `hypatia models probe`, so a crash in llama.cpp is an
    // error naming the file instead of this process dying.
    if let Ok(program) = std::env::current_exe() {
        hypatia_models::probe::install(hypatia_models::probe::ProbeCommand {
            program,
            args: vec!["models".into(), "probe".into()],
        });
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(commands::run(cli)) {
        Ok(code) => code,
        Err(error) => {
            if is_broken_pipe(&error) {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {}", output::describe(&error));
            ExitCode::FAILURE
        }
    }
}

/// The terminal UI owns the screen, so its logs go to `.hypatia/tui.log` in the project.
fn log_file(cli: &cli::Cli) -> Option<std::path::PathBuf> {
    use std::io::IsTerminal;
    let tui = match &cli.command {
        Some(cli::Command::Tui) => true,
        None => std::io::stdout().is_terminal(),
        Some(_) => false,
    };
    if !tui {
        return None;
    }
    let cwd = std::env::current_dir().ok()?;
    let root = hypatia_project::find_project_root(cli.project.as_deref(), &cwd).ok()?;
    Some(root.join(hypatia_project::DATA_DIR).join("tui.log"))
}

/// A panic of the PDF extractor is contained on its thread and reported as an error naming the
/// file; the default hook would also print a backtrace hint to the terminal. It goes to the log.
fn quiet_contained_panics() {
    let default = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().name() == Some(hypatia_project::PDF_EXTRACTOR_THREAD) {
            tracing::debug!(panic = %info, "the PDF extractor panicked; the file is reported as unreadable");
        } else {
            default(info);
        }
    }));
}

fn init_logging(verbose: u8, file: Option<&std::path::Path>) {
    let default = match verbose {
        // llama.cpp warns about every full KV cache; the engine handles that, so only its errors show.
        // pdf-extract warns about every glyph name it does not know; the text comes out regardless.
        // lopdf logs what is broken in a PDF as errors; the ingest reports the file itself.
        0 => "warn,llama-cpp-2=error,pdf_extract=error,lopdf=off",
        1 => "info,pdf_extract=error,lopdf=off",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("HYPATIA_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    let log = file.and_then(|path| std::fs::OpenOptions::new().create(true).append(true).open(path).ok());
    match log {
        Some(log) => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_ansi(false)
            .with_writer(std::sync::Mutex::new(log))
            .init(),
        None => tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(std::io::stderr)
            .init(),
    }
}

/// `hypatia search x | head` closing the pipe early is not an error.
fn is_broken_pipe(error: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == BrokenPipe)
            || cause
                .downcast_ref::<serde_json::Error>()
                .and_then(|e| e.io_error_kind())
                == Some(BrokenPipe)
    })
}
