use std::io::Write;
use std::process::ExitCode;

use hypatia_project::{Project, SearchMode, SearchRequest};
use serde_json::json;

use crate::cli::SearchArgs;
use crate::output::{Style, short_authors};

pub async fn run(
    mut project: Project,
    args: SearchArgs,
    explicit: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    // Words alone need no model: load one only when the mode may use it. Asked for by the mode, a
    // model that cannot be used is an error; by default, words alone answer, with a warning.
    let words_alone = super::attach_for_search(&mut project, explicit, args.embedding_model.clone(), args.mode).await?;
    let mode = match args.mode {
        Some(mode) => mode,
        None if words_alone => SearchMode::Bm25,
        None => project.default_mode(),
    };
    let query = args.query.join(" ");
    let request = SearchRequest {
        query: &query,
        limit: args.limit,
        years: args.year,
        author: args.author.as_deref(),
        snippets: true,
    };
    let style = Style::for_stdout();
    let mut out = std::io::stdout().lock();
    if args.passages {
        let hits = project.find_passages(&request, mode).await?;
        if args.json {
            let rows: Vec<_> = hits
                .iter()
                .map(|h| {
                    json!({
                        "id": h.passage_id, "paper_id": h.paper_id, "score": h.score, "year": h.year,
                        "section": h.location.as_ref().map(|l| &l.section),
                        "page": h.location.as_ref().map(|l| l.page),
                        "page_end": h.location.as_ref().map(|l| l.page_end),
                        "char_start": h.location.as_ref().map(|l| l.start),
                        "char_end": h.location.as_ref().map(|l| l.end),
                        "text": h.text.text,
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        } else {
            for (rank, hit) in hits.iter().enumerate() {
                // Where in the paper: "Results, p. 4" for full text, nothing for an abstract.
                let place = match &hit.location {
                    Some(at) => format!("  {}, {}", at.section, at.pages_label()),
                    None => String::new(),
                };
                write_header(
                    &mut out,
                    rank,
                    hit.score,
                    hit.year,
                    &format!("{}{place}", style.bold(hit.passage_id.as_str())),
                )?;
                writeln!(out, "     {}", style.highlight(&hit.text.text, &hit.text.highlights))?;
            }
            if hits.is_empty() {
                explain_no_hits(&project, &query, &args, "passages")?;
            }
        }
    } else {
        let hits = project.find_papers(&request, mode).await?;
        if args.json {
            let rows: Vec<_> = hits
                .iter()
                .map(|h| {
                    json!({
                        "id": h.paper_id, "title": h.title, "year": h.year, "score": h.score,
                        "authors": h.authors, "venue": h.venue,
                        "snippet": h.snippet.as_ref().map(|s| &s.text),
                    })
                })
                .collect();
            serde_json::to_writer_pretty(&mut out, &rows)?;
            writeln!(out)?;
        } else {
            for (rank, hit) in hits.iter().enumerate() {
                write_header(&mut out, rank, hit.score, hit.year, &style.bold(&hit.title))?;
                let authors = short_authors(&hit.authors);
                let byline = if authors.is_empty() {
                    hit.paper_id.to_string()
                } else {
                    format!("{} · {authors}", hit.paper_id)
                };
                writeln!(out, "     {}", style.dim(&byline))?;
                if let Some(snippet) = &hit.snippet
                    && !snippet.text.is_empty()
                {
                    writeln!(out, "     {}", style.highlight(&snippet.text, &snippet.highlights))?;
                }
            }
            if hits.is_empty() {
                explain_no_hits(&project, &query, &args, "papers")?;
            }
        }
    }
    drop(out);
    project.close().await;
    Ok(ExitCode::SUCCESS)
}

/// `  1.  12.34  2024  Title`: rank, score, year (or ----) and a label.
fn write_header(out: &mut impl Write, rank: usize, score: f32, year: Option<i32>, label: &str) -> std::io::Result<()> {
    let year = year.map(|y| y.to_string()).unwrap_or_else(|| "----".into());
    writeln!(out, "{:>3}. {score:>6.2}  {year}  {label}", rank + 1)
}

/// Says why a search found nothing when the reason is the query itself.
fn explain_no_hits(project: &Project, query: &str, args: &SearchArgs, what: &str) -> anyhow::Result<()> {
    let filtered = args.year.is_some() || args.author.is_some();
    if !filtered && !project.has_searchable_words(query)? {
        eprintln!("`{query}` has no searchable words: common words such as \"the\" and \"of\" are not indexed");
    } else {
        eprintln!("no {what} match `{query}`");
    }
    Ok(())
}
