//! `hypatia export`: a run's report in one format to stdout or a file, or several into a folder.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, bail};
use hypatia_project::Project;
use hypatia_report::Format;

use crate::cli::ExportArgs;

pub async fn run(project: Project, args: ExportArgs) -> anyhow::Result<ExitCode> {
    let formats = formats(&args)?;
    let run_id = resolve_run(&project, &args.run).await?;
    let document = hypatia_session::load_document(&project, &run_id).await?;
    project.close().await;
    if let Some(notice) = &document.notice {
        eprintln!("note: {notice}");
    }
    // Everything is rendered before anything is written: a failure leaves no partial export.
    let rendered: Vec<(Format, String)> = formats.iter().map(|f| (*f, f.render(&document))).collect();
    match (&args.out, &args.out_dir) {
        (Some(file), _) => {
            write_atomically(file, &rendered[0].1)?;
            eprintln!("wrote {}", file.display());
        }
        (None, Some(dir)) => {
            std::fs::create_dir_all(dir).with_context(|| format!("cannot create the folder {}", dir.display()))?;
            for (format, text) in &rendered {
                let file = dir.join(format!("{run_id}.{}", format.extension()));
                write_atomically(&file, text)?;
                eprintln!("wrote {}", file.display());
            }
        }
        (None, None) => {
            let mut out = std::io::stdout().lock();
            match out.write_all(rendered[0].1.as_bytes()).and_then(|()| out.flush()) {
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

/// Written beside the target and renamed over it, so a reader never sees half a file.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let parent = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("{} is not a file name", path.display()))?
        .to_string_lossy();
    let temporary = parent.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = std::fs::write(&temporary, text)
        .and_then(|()| std::fs::File::open(&temporary)?.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path));
    if let Err(error) = result {
        let _ = std::fs::remove_file(&temporary);
        return Err(error).with_context(|| format!("cannot write {}", path.display()));
    }
    Ok(())
}
