use std::io::Write;
use std::process::ExitCode;

use anyhow::bail;
use hypatia_core::PaperId;
use hypatia_project::Project;
use serde_json::json;

use crate::cli::PapersCommand;
use crate::output::{Style, short_authors};

pub async fn run(project: Project, command: PapersCommand) -> anyhow::Result<ExitCode> {
    let style = Style::for_stdout();
    let mut out = std::io::stdout().lock();
    match command {
        PapersCommand::List { limit, offset, json } => {
            let papers = project.list_papers(limit, offset).await?;
            if json {
                serde_json::to_writer_pretty(&mut out, &papers)?;
                writeln!(out)?;
            } else {
                for paper in &papers {
                    let year = paper.year.map(|y| y.to_string()).unwrap_or_else(|| "----".into());
                    writeln!(out, "{}  {year}  {}", paper.id, paper.title)?;
                }
            }
        }
        PapersCommand::Show { id, json } => {
            let id: PaperId = id.parse()?;
            let Some((paper, passages)) = project.paper(&id).await? else {
                bail!("no paper {id} in this project (see `hypatia papers list`)");
            };
            if json {
                serde_json::to_writer_pretty(&mut out, &json!({"paper": paper, "passages": passages}))?;
                writeln!(out)?;
            } else {
                writeln!(out, "{}", style.bold(&paper.title))?;
                writeln!(out, "id:       {}", paper.id)?;
                let optional = [
                    ("authors", Some(short_authors(&paper.authors)).filter(|a| !a.is_empty())),
                    ("year", paper.year.map(|y| y.to_string())),
                    ("venue", paper.venue.clone()),
                    ("doi", paper.doi.clone()),
                    ("arxiv", paper.arxiv_id.clone()),
                    ("url", paper.url.clone()),
                ];
                for (label, value) in optional {
                    if let Some(value) = value {
                        writeln!(out, "{:<9} {value}", format!("{label}:"))?;
                    }
                }
                for source in &paper.sources {
                    writeln!(out, "source:   {} ({}, {})", source.path, source.format, source.record)?;
                }
                if !passages.is_empty() {
                    writeln!(out, "\npassages:")?;
                    for passage in &passages {
                        // A full-text passage says where it is: "Results, p. 4".
                        let place = passage
                            .location
                            .as_ref()
                            .map_or(String::new(), |at| format!("[{}, {}] ", at.section, at.pages_label()));
                        writeln!(out, "  {}  {place}{}", style.dim(passage.id.as_str()), passage.text)?;
                    }
                }
            }
        }
    }
    drop(out);
    project.close().await;
    Ok(ExitCode::SUCCESS)
}
