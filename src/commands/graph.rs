//! `hypatia graph expand|stats|export`: the citation graph around the project, fetched from the
//! APIs, stored as edges between paper keys, held in petgraph.

use std::collections::BTreeSet;
use std::io::Write;
use std::process::ExitCode;

use hypatia_core::Paper;
use hypatia_graph::CitationGraph;
use hypatia_project::Project;
use hypatia_sources::PaperRef;
use hypatia_store::CitationEdgeRow;

use crate::cli::GraphCommand;

use hypatia_citations::PaperKeys;

async fn all_papers(project: &Project) -> anyhow::Result<Vec<Paper>> {
    Ok(hypatia_citations::all_papers(project).await?)
}

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
        } => expand(&project, depth, max, add, refresh, json).await?,
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

async fn expand(project: &Project, depth: u32, max: usize, add: bool, refresh: bool, json: bool) -> anyhow::Result<()> {
    let sources = super::fetch::sources_for(project, false)?;
    let expanded: BTreeSet<String> = if refresh {
        BTreeSet::new()
    } else {
        project.store().expanded_papers().await?.into_iter().collect()
    };
    let mut keys = PaperKeys::load(project).await?;
    let mut queue: Vec<Paper> = all_papers(project)
        .await?
        .into_iter()
        .filter(|p| keys.expandable(p).is_some_and(|k| !expanded.contains(&k)))
        .collect();
    let (mut done, mut references, mut citations, mut new_edges, mut added) = (0usize, 0usize, 0usize, 0u64, 0usize);
    let mut failures = Vec::new();
    for level in 1..=depth {
        if queue.is_empty() {
            break;
        }
        let bar = super::progress_bar(queue.len() as u64);
        let mut to_add = Vec::new();
        for paper in &queue {
            bar.set_message(format!(
                "depth {level}: {}",
                paper.title.chars().take(50).collect::<String>()
            ));
            let Some(key) = keys.expandable(paper) else { continue };
            let reference = PaperRef {
                doi: paper.doi.clone(),
                arxiv_id: paper.arxiv_id.clone(),
                s2_id: keys.s2_id(paper),
                title: paper.title.clone(),
            };
            let cited = sources.references(&reference, max).await;
            let citing = sources.citations(&reference, max).await;
            bar.inc(1);
            let mut edges = Vec::new();
            let mut failed_here = false;
            let mut source = "s2";
            let (mut n_refs, mut n_cites) = (0, 0);
            match cited {
                Ok((linked, from)) => {
                    source = from.as_str();
                    n_refs = linked.len();
                    for link in linked {
                        edges.push(CitationEdgeRow {
                            citing_key: key.clone(),
                            cited_key: link.key,
                            citing_title: Some(paper.title.clone()),
                            cited_title: link.title,
                            source: from.as_str().to_owned(),
                        });
                        to_add.extend(link.paper);
                    }
                }
                Err(error) => {
                    failed_here = true;
                    failures.push(format!("references of {}: {error}", paper.id));
                }
            }
            match citing {
                Ok((linked, from)) => {
                    n_cites = linked.len();
                    for link in linked {
                        edges.push(CitationEdgeRow {
                            citing_key: link.key,
                            cited_key: key.clone(),
                            citing_title: link.title,
                            cited_title: Some(paper.title.clone()),
                            source: from.as_str().to_owned(),
                        });
                        to_add.extend(link.paper);
                    }
                }
                Err(error) => {
                    failed_here = true;
                    failures.push(format!("citations of {}: {error}", paper.id));
                }
            }
            // A paper whose lookup failed is not marked expanded: the next run tries it again.
            let expanded = (!failed_here).then_some((key.as_str(), n_refs, n_cites, source));
            new_edges += project.store().add_citation_edges(&edges, expanded).await?;
            references += n_refs;
            citations += n_cites;
            done += 1;
        }
        bar.finish_and_clear();
        if !add {
            break;
        }
        let before: BTreeSet<String> = all_papers(project)
            .await?
            .into_iter()
            .map(|p| p.id.to_string())
            .collect();
        for (_, summary) in super::fetch::store_papers(project, "graph expand", to_add).await? {
            added += summary.added;
        }
        keys = PaperKeys::load(project).await?;
        queue = all_papers(project)
            .await?
            .into_iter()
            .filter(|p| !before.contains(&p.id.to_string()) && keys.expandable(p).is_some())
            .collect();
    }
    let mut out = std::io::stdout().lock();
    if json {
        let value = serde_json::json!({
            "expanded": done, "references": references, "citations": citations,
            "new_edges": new_edges, "added_papers": added, "failures": failures,
        });
        serde_json::to_writer_pretty(&mut out, &value)?;
        writeln!(out)?;
    } else {
        writeln!(
            out,
            "Expanded {done} papers: {references} references and {citations} citations, {new_edges} new edges; {added} papers added to the project."
        )?;
        for failure in failures.iter().take(5) {
            eprintln!("warning: {failure}");
        }
        if failures.len() > 5 {
            eprintln!("warning: and {} more lookups failed", failures.len() - 5);
        }
    }
    Ok(())
}
