//! `hypatia graph expand|stats|export`: the citation graph around the project, fetched from the
//! APIs, stored as edges between paper keys, held in petgraph.

use std::io::Write;
use std::process::ExitCode;

use hypatia_graph::CitationGraph;
use hypatia_online::{ExpandOptions, Progress, sources_for};
use hypatia_project::Project;

use crate::cli::GraphCommand;

async fn load_graph(project: &Project) -> anyhow::Result<CitationGraph> {
    Ok(hypatia_citations::citation_graph(project).await?)
}

pub async fn run(project: Project, command: GraphCommand) -> anyhow::Result<ExitCode> {
    match command {
        GraphCommand::Expand {
            depth,
            max,
            add,
            refresh,
            json,
        } => {
            let options = ExpandOptions {
                depth,
                max,
                add,
                refresh,
            };
            expand(&project, options, json).await?
        }
        GraphCommand::Stats { json } => {
            let graph = load_graph(&project).await?;
            let stats = graph.stats();
            let mut out = std::io::stdout().lock();
            if json {
                serde_json::to_writer_pretty(&mut out, &stats)?;
                writeln!(out)?;
            } else {
                writeln!(
                    out,
                    "{} papers and {} citations in the graph; {} of the papers are in the project, with {} citations between them; {} connected component{}.",
                    stats.nodes,
                    stats.edges,
                    stats.project_papers,
                    stats.edges_within_project,
                    stats.components,
                    if stats.components == 1 { "" } else { "s" }
                )?;
                if !stats.most_cited.is_empty() {
                    writeln!(out, "Most cited in the graph:")?;
                    for (paper, count) in &stats.most_cited {
                        let marker = if paper.paper_id.is_some() { "*" } else { " " };
                        writeln!(
                            out,
                            "  {count:>4} {marker} {}",
                            paper.title.as_deref().unwrap_or(&paper.key)
                        )?;
                    }
                    writeln!(out, "  (* in the project)")?;
                }
            }
        }
        GraphCommand::Export { format, out } => {
            let graph = load_graph(&project).await?;
            let text = if format == "graphml" {
                graph.to_graphml()
            } else {
                graph.to_dot()
            };
            match out {
                Some(path) => {
                    hypatia_runstore::write_atomically(&path, &text)
                        .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))?;
                    eprintln!("wrote {}", path.display());
                }
                None => std::io::stdout().lock().write_all(text.as_bytes())?,
            }
        }
    }
    project.close().await;
    Ok(ExitCode::SUCCESS)
}

async fn expand(project: &Project, options: ExpandOptions, json: bool) -> anyhow::Result<()> {
    let sources = sources_for(project, false)?;
    let bar = super::progress_bar(2);
    let progress = |p: Progress<'_>| {
        bar.set_length(p.total as u64);
        bar.set_position(p.done as u64);
        bar.set_message(format!(
            "depth {}: {}",
            p.level,
            p.title.chars().take(50).collect::<String>()
        ));
    };
    let summary = hypatia_online::expand(project, &sources, options, &progress).await;
    bar.finish_and_clear();
    let summary = summary?;
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "expanded": summary.expanded, "references": summary.references, "citations": summary.citations,
            "new_edges": summary.new_edges, "added_papers": summary.added_papers, "failures": summary.failures,
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Expanded {} papers: {} references and {} citations, {} new edges; {} papers added to the project.",
            summary.expanded, summary.references, summary.citations, summary.new_edges, summary.added_papers
        )?;
        let failures = &summary.failures;
        for failure in failures.iter().take(5) {
            eprintln!("warning: {failure}");
        }
        if failures.len() > 5 {
            eprintln!("warning: and {} more lookups failed", failures.len() - 5);
        }
    }
    Ok(())
}
