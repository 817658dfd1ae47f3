//! `hypatia export`: a run's report in one format to stdout or a file, or several into a folder.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use hypatia_project::Project;
use hypatia_report::Format;

use crate::cli::ExportArgs;

pub async fn run(project: Project, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let formats = formats(&args)?;
    let run_id = resolve_run(&project, &args.run).await?;
    let document = hypatia_runstore::load_document(&project, &run_id).await?;
    project.close().await;
    if let Some(notice) = &document.notice {
        eprintln!("note: {notice}");
    }
    match (&args.out, &args.out_dir) {
        (Some(file), _) => {
            hypatia_runstore::write_atomically(file, &formats[0].render(&document))
                .with_context(|| format!("cannot write {}", file.display()))?;
            eprintln!("wrote {}", file.display());
        }
        (None, Some(dir)) => {
            // Everything is rendered before anything is written: a failure leaves no partial export.
            let written = hypatia_runstore::export_to_dir(&document, &formats, dir)
                .with_context(|| format!("cannot write the export into {}", dir.display()))?;
            for file in written {
                eprintln!("wrote {}", file.display());
            }
        }
        (None, None) => {
            let text = formats[0].render(&document);
            let mut out = std::io::stdout().lock();
            match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
                Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => {}
                other => other.context("cannot write to standard output")?,
            }
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn formats(args: &ExportArgs) -> anyhow::Result<Vec<Format>> {
    let mut formats: Vec<Format> = Vec::new();
    for name in &args.format {
        let format: Format = name.parse().map_err(|message: String| anyhow::anyhow!(message))?;
        if !formats.contains(&format) {
            formats.push(format);
        }
    }
    if formats.is_empty() {
        formats = if args.out_dir.is_some() {
            Format::ALL.to_vec()
        } else {
            vec![Format::Markdown]
        };
    }
    if formats.len() > 1 && args.out_dir.is_none() {
        bail!(
            "{} formats were asked for, but standard output and --out take one: use --out-dir DIR to write several",
            formats.len()
        );
    }
    Ok(formats)
}

/// `latest` is the newest run; anything else must name a run.
async fn resolve_run(project: &Project, run: &str) -> anyhow::Result<String> {
    if run == "latest" {
        let runs = project.store().list_runs().await?;
        return match runs.first() {
            Some(newest) => Ok(newest.id.clone()),
            None => bail!("this project has no runs yet: start one with `hypatia review \"QUESTION\"`"),
        };
    }
    Ok(run.to_owned())
}
