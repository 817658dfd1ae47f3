use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};
use hypatia_core::SourceFormat;
use hypatia_project::{Analyzer, YearRange};

/// Hypatia: a local-first research assistant. Every claim points at a real
/// passage of a real paper.
#[derive(Debug, Parser)]
#[command(name = "hypatia", version, propagate_version = true)]
pub struct Cli {
    /// The project folder (default: the nearest folder holding hypatia.toml).
    #[arg(long, global = true, env = "HYPATIA_PROJECT", value_name = "DIR")]
    pub project: Option<PathBuf>,
    /// More log output on stderr (-v info, -vv debug); HYPATIA_LOG overrides.
    #[arg(short, long, global = true, action = clap::ArgAction::Count)]
    pub verbose: u8,
    /// Without one, `hypatia` opens the terminal UI when attached to a terminal.
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a project: hypatia.toml and a .hypatia/ folder with the database and index.
    Init {
        /// Where to create it (default: the current folder).
        dir: Option<PathBuf>,
        /// The project's name (default: the folder's name).
        #[arg(long)]
        name: Option<String>,
    },
    /// Add papers from files or folders (text, BEIR, JSONL, BibTeX, RIS, CSL-JSON).
    Ingest(IngestArgs),
    /// Search the project's papers (BM25 over title, abstract and authors).
    Search(SearchArgs),
    /// Add papers from a scholarly API: arXiv, Semantic Scholar (s2), OpenAlex or Crossref.
    Fetch(FetchArgs),
    /// Fill missing abstracts, DOIs, venues and years of the project's papers from the APIs.
    Enrich(EnrichArgs),
    /// The citation graph: fetch references and citations, count, export.
    Graph {
        #[command(subcommand)]
        command: GraphCommand,
    },
    /// Contradictions between papers that reviews found (pairs of passages judged, kept per model);
    /// `--all` lists agreements and unrelated pairs too.
    Claims(ClaimsArgs),
    /// List or show stored papers.
    Papers {
        #[command(subcommand)]
        command: PapersCommand,
    },
    /// Rebuild the search index from the project database, and embed every passage again when an
    /// embedding model is configured.
    Reindex {
        /// A GGUF embedding model (else [embedding] in hypatia.toml or HYPATIA_EMBEDDING_MODEL).
        #[arg(long, value_name = "FILE")]
        embedding_model: Option<PathBuf>,
    },
    /// Show what the project holds and whether the index agrees with the database.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Measure retrieval quality on a benchmark.
    Eval {
        #[command(subcommand)]
        command: EvalCommand,
    },
    /// Ask the configured model one question: the quickest check that a model is set up.
    Ask(AskArgs),
    /// Answer a question from the library in a few sentences that cite its passages, each citation
    /// checked; says so plainly when the library holds no evidence for an answer.
    Answer(AnswerArgs),
    /// List, inspect and download GGUF models.
    Models {
        #[command(subcommand)]
        command: ModelsCommand,
    },
    /// Run a review: plan, retrieve evidence, compose hypotheses, review them, rank them in a
    /// tournament and refine the leaders. Creates a project here if there is none.
    Review(ReviewArgs),
    /// Continue an interrupted review run from its journal.
    Resume(ResumeArgs),
    /// List or show review runs.
    Runs {
        #[command(subcommand)]
        command: RunsCommand,
    },
    /// Write a run's report: Markdown, self-contained HTML, JSON, BibTeX, CSL-JSON or DOT.
    Export(ExportArgs),
    /// The terminal UI: search the library, follow runs, explore hypotheses (logs go to .hypatia/tui.log).
    Tui,
    /// Show the effective configuration.
    Config {
        #[command(subcommand)]
        command: ConfigCommand,
    },
}

/// Which model to use, over the configuration files and environment.
#[derive(Debug, Clone, Args)]
pub struct ModelArgs {
    /// A GGUF file to run in process (llama.cpp).
    #[arg(long, value_name = "PATH", conflicts_with_all = ["openai_base_url", "openai_model"])]
    pub model: Option<PathBuf>,
    /// An OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1 (llama-server, vLLM, Ollama).
    #[arg(long, value_name = "URL")]
    pub openai_base_url: Option<String>,
    /// The model name to request from the endpoint.
    #[arg(long, value_name = "NAME")]
    pub openai_model: Option<String>,
    /// A GGUF embedding model for dense and hybrid search (see `hypatia models convert`).
    #[arg(long, value_name = "FILE")]
    pub embedding_model: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ClaimsArgs {
    /// Every judged pair, not only contradictions.
    #[arg(long)]
    pub all: bool,
    /// How many to show, newest first (1 to 10000).
    #[arg(long, short = 'n', default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10000))]
    pub limit: u32,
    /// Print an array of pairs as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct AnswerArgs {
    /// The question.
    pub question: String,
    /// Passages to search for (1 to 50); those that bear on the question are given to the model.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub passages: u32,
    /// bm25, dense or hybrid (default: hybrid when an embedding model is configured, else bm25).
    #[arg(long, value_name = "MODE")]
    pub mode: Option<hypatia_project::SearchMode>,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Print one JSON object: answer, abstained, abstain_reason, citations, model, usage.
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub model: ModelArgs,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// The question.
    pub prompt: String,
    /// A JSON schema file: the answer is then JSON that satisfies it.
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub model: ModelArgs,
    /// Most tokens to generate.
    #[arg(long)]
    pub max_tokens: Option<u32>,
    #[arg(long)]
    pub temperature: Option<f32>,
    /// Makes a local model's answer reproducible.
    #[arg(long)]
    pub seed: Option<u32>,
    /// Print an object with `answer`, `usage`, `model`, `backend` and `finish`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum ModelsCommand {
    /// The GGUF files in the models folder.
    List {
        #[arg(long)]
        json: bool,
    },
    /// What a GGUF file is: architecture, parameters, quantization, context, chat template.
    Info {
        path: PathBuf,
        #[arg(long)]
        json: bool,
    },
    /// Download a GGUF file into the models folder (resumes an interrupted download).
    Pull {
        /// A URL, or Hugging Face shorthand OWNER/REPO/FILE (OWNER/REPO@REVISION/FILE for a revision).
        source: String,
        /// The file's expected SHA-256, checked before it is kept.
        #[arg(long, value_name = "HEX")]
        sha256: Option<String>,
    },
    /// Load a GGUF file and generate a few tokens, in this process: checks that this build of the
    /// engine runs the file on this CPU. Hypatia runs it in a child process before a file's first use.
    Probe {
        path: PathBuf,
        #[arg(long)]
        threads: Option<u32>,
        /// Try the file as an embedding model: embed a sentence instead of generating.
        #[arg(long)]
        embedding: bool,
    },
    /// Convert a sentence-transformers folder (BERT: MiniLM, bge, e5, gte) into a GGUF embedding
    /// model llama.cpp runs: `--embedding-model FILE` or `[embedding] path` then use it.
    Convert {
        /// The folder with config.json, model.safetensors, tokenizer.json and modules.json.
        dir: PathBuf,
        /// The GGUF file to write (replaced whole, or left untouched on failure).
        #[arg(long, value_name = "FILE.gguf")]
        out: PathBuf,
        /// f32 (exact) or f16 (half the size; weight matrices only).
        #[arg(long, value_name = "TYPE", default_value = "f32")]
        outtype: hypatia_gguf::OutputType,
        #[arg(long)]
        json: bool,
    },
    /// The engine's build: the CPU features llama.cpp was compiled with (AMX is always left out).
    Engine {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// The effective configuration (user file, project, environment), secrets masked.
    Show {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    /// Files or folders (folders are searched for .txt .jsonl .json .bib .ris .csl .pdf files; a PDF
    /// is recognised by its content whatever its name).
    #[arg(required_unless_present = "zotero")]
    pub paths: Vec<PathBuf>,
    /// Import a Zotero library from its data folder (default ~/Zotero): every item's metadata and
    /// the full text of its attached PDF. Safe while Zotero runs; a second import adds only what
    /// changed.
    #[arg(long, value_name = "DIR", num_args = 0..=1, default_missing_value = "", conflicts_with = "paths")]
    pub zotero: Option<PathBuf>,
    /// With --zotero: only the items of this collection (and its subcollections).
    #[arg(long, value_name = "NAME", requires = "zotero")]
    pub collection: Option<String>,
    #[arg(long, default_value = "auto", value_parser = parse_format)]
    pub format: FormatChoice,
    /// Store a file's valid records and report the invalid ones, instead of refusing the file; a file
    /// that cannot be read at all (an encrypted or scanned PDF, say) is reported and skipped.
    #[arg(long)]
    pub skip_invalid: bool,
    /// Then complete what the files lack (abstracts, DOIs, venues, years) from the scholarly APIs,
    /// as `hypatia enrich` does.
    #[arg(long)]
    pub enrich: bool,
    /// Embed the new passages with this GGUF embedding model (else [embedding] in hypatia.toml or
    /// HYPATIA_EMBEDDING_MODEL; with none configured, passages are embedded when first searched).
    #[arg(long, value_name = "FILE")]
    pub embedding_model: Option<PathBuf>,
    /// Print the summary as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy)]
pub enum FormatChoice {
    Auto,
    Format(SourceFormat),
}

fn parse_format(text: &str) -> Result<FormatChoice, String> {
    if text == "auto" {
        Ok(FormatChoice::Auto)
    } else {
        text.parse().map(FormatChoice::Format)
    }
}

#[derive(Debug, Args)]
pub struct SearchArgs {
    /// Words to search for; "quoted phrases" must appear as written.
    #[arg(required = true, num_args = 1..)]
    pub query: Vec<String>,
    /// How many hits to show (1 to 10000).
    #[arg(long, short = 'n', default_value_t = 10, value_parser = parse_limit)]
    pub limit: usize,
    /// Publication years: 2020..2024, 2020.., ..2024 or 2021.
    #[arg(long)]
    pub year: Option<YearRange>,
    /// Only papers with an author of this name.
    #[arg(long)]
    pub author: Option<String>,
    /// Search citable passages instead of papers.
    #[arg(long)]
    pub passages: bool,
    /// bm25 (words), dense (meaning, with an embedding model) or hybrid (both, fused). Default:
    /// hybrid when an embedding model is configured, else bm25.
    #[arg(long, value_name = "MODE")]
    pub mode: Option<hypatia_project::SearchMode>,
    /// A GGUF embedding model (else [embedding] in hypatia.toml or HYPATIA_EMBEDDING_MODEL).
    #[arg(long, value_name = "FILE")]
    pub embedding_model: Option<PathBuf>,
    /// Print an array of hits as JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum PapersCommand {
    /// Papers in the order they were added.
    List {
        #[arg(long, default_value_t = 50)]
        limit: u32,
        #[arg(long, default_value_t = 0)]
        offset: u32,
        #[arg(long)]
        json: bool,
    },
    /// One paper with its metadata, sources and passages.
    Show {
        id: String,
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum EvalCommand {
    /// nDCG@10, Recall@100 and MRR@10 of search on a BEIR dataset.
    Retrieval {
        /// A BEIR dataset folder (corpus.jsonl, queries.jsonl, qrels/).
        #[arg(long, value_name = "DIR")]
        beir: PathBuf,
        #[arg(long, default_value = "test")]
        split: String,
        #[arg(long)]
        json: bool,
        /// Text analysis to evaluate (default: the product's).
        #[arg(long, default_value = "english")]
        analyzer: Analyzer,
        /// Field weights to evaluate, e.g. `contents=1,title=0.5` (fields: title, abstract, contents, authors).
        #[arg(long, value_parser = parse_boosts)]
        boosts: Option<hypatia_project::FieldBoosts>,
        /// bm25, dense or hybrid (dense and hybrid need an embedding model); `all` scores the three
        /// over one ingest and one embedding of the corpus. Default: hybrid when an embedding model
        /// is configured, else bm25.
        #[arg(long, value_name = "MODE")]
        mode: Option<EvalMode>,
        /// The fusion of a hybrid run, e.g. `convex:0.4` or `rrf:60` (default: the product's); several,
        /// comma-separated, are each scored over the same embedding (how the default was chosen).
        #[arg(long, value_name = "FUSION", value_delimiter = ',')]
        fusion: Vec<hypatia_project::Fusion>,
        /// A GGUF embedding model (else [embedding] in the config, or HYPATIA_EMBEDDING_MODEL).
        #[arg(long, value_name = "FILE")]
        embedding_model: Option<PathBuf>,
        /// A quick check: only the split's first N queries (by id). The figures are then the sample's,
        /// not comparable with published ones.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit_queries: Option<u32>,
        /// A quick check: a corpus of N documents, every document judged for the evaluated queries and
        /// the others in file order (embedding a whole corpus can take long on a CPU).
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        sample_documents: Option<u32>,
    },
    /// Precision, recall and F1 of the citation judge (supports / contradicts / unrelated) on
    /// SciFact's claims against the abstracts they cite, with the configured model.
    Claims {
        /// SciFact in its original format (claims_<split>.jsonl, corpus.jsonl).
        #[arg(long, value_name = "DIR")]
        scifact: PathBuf,
        /// dev or train (SciFact keeps the test split's labels private).
        #[arg(long, default_value = "dev")]
        split: String,
        /// A quick check: only the first N (claim, abstract) pairs, in the file's order.
        #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
        limit: Option<u32>,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        model: ModelArgs,
    },
}

/// One search mode, or all three.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EvalMode {
    One(hypatia_project::SearchMode),
    All,
}

impl std::str::FromStr for EvalMode {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, String> {
        if text == "all" {
            Ok(EvalMode::All)
        } else {
            text.parse().map(EvalMode::One)
        }
    }
}

fn parse_limit(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=hypatia_project::MAX_LIMIT).contains(&n) => Ok(n),
        _ => Err(format!(
            "expected a whole number from 1 to {}",
            hypatia_project::MAX_LIMIT
        )),
    }
}

fn parse_boosts(text: &str) -> Result<hypatia_project::FieldBoosts, String> {
    let mut boosts = hypatia_project::FieldBoosts {
        title: 0.0,
        abstract_text: 0.0,
        contents: 0.0,
        authors: 0.0,
    };
    for part in text.split(',') {
        let (field, weight) = part
            .split_once('=')
            .ok_or_else(|| format!("`{part}` is not field=weight"))?;
        let weight: f32 = weight
            .trim()
            .parse()
            .map_err(|_| format!("`{weight}` is not a number"))?;
        let slot = match field.trim() {
            "title" => &mut boosts.title,
            "abstract" => &mut boosts.abstract_text,
            "contents" => &mut boosts.contents,
            "authors" => &mut boosts.authors,
            other => return Err(format!("unknown field `{other}`")),
        };
        *slot = weight;
    }
    Ok(boosts)
}

#[derive(Debug, Args)]
pub struct ReviewArgs {
    /// The research question.
    pub question: String,
    /// Hypotheses to compose in the first round.
    #[arg(long, default_value_t = hypatia_research::defaults::HYPOTHESES, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub hypotheses: u32,
    /// Rounds: the first composes and ranks; each later one revises the leaders and ranks again.
    #[arg(long, default_value_t = hypatia_research::defaults::ROUNDS, value_parser = clap::value_parser!(u32).range(1..=10))]
    pub rounds: u32,
    /// Hypotheses revised in each round after the first.
    #[arg(long, default_value_t = hypatia_research::defaults::LEADERS, value_parser = clap::value_parser!(u32).range(1..=16))]
    pub leaders: u32,
    /// Passages in the evidence set.
    #[arg(long, default_value_t = hypatia_research::defaults::EVIDENCE, value_parser = clap::value_parser!(u32).range(1..=100))]
    pub evidence: u32,
    /// Seed for every model call of the run (default: the configured seed, else a new one).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Stop once this many tokens (prompt and completion) were used.
    #[arg(long, value_name = "N")]
    pub budget_tokens: Option<u64>,
    /// Stop after this many minutes of work.
    #[arg(long, value_name = "M")]
    pub budget_minutes: Option<f64>,
    /// Stop after this many model calls.
    #[arg(long, value_name = "N")]
    pub budget_calls: Option<u64>,
    /// Skip the synthesis sections (what the literature shows on each sub-question, two model calls
    /// each): hypotheses only.
    #[arg(long)]
    pub no_synthesis: bool,
    /// Ingest these files first (any format `hypatia ingest` takes).
    #[arg(long, value_name = "FILE", num_args = 1..)]
    pub corpus: Vec<PathBuf>,
    /// Fill the project from this API (arxiv, s2, openalex or crossref) with the question before the
    /// review starts. A project with no papers, given no --corpus, is filled from arXiv.
    #[arg(long, value_parser = parse_source, value_name = "SOURCE")]
    pub fetch: Option<hypatia_sources::SourceKind>,
    /// Papers to fetch (with --fetch, or when an empty project is filled from arXiv).
    #[arg(long, default_value_t = 25, value_parser = parse_fetch_max)]
    pub max: usize,
    /// Download the default small instruct model first if it is not in the models folder.
    #[arg(long)]
    pub pull_model: bool,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    /// Print one JSON object: run_id, question, status, hypotheses, usage.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EngineArgs {
    /// A model call taking longer than this many seconds is abandoned (and retried).
    #[arg(long, default_value_t = hypatia_session::DEFAULT_CALL_TIMEOUT.as_secs(), value_name = "SECONDS")]
    pub call_timeout: u64,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The run to continue (`hypatia runs list` shows them).
    pub run: String,
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub engine: EngineArgs,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The run to export (`hypatia runs list` shows them; `latest` is the newest).
    pub run: String,
    /// md, html, json, bibtex, csljson or dot; several with commas (with --out-dir). Default: md, or
    /// every format with --out-dir.
    #[arg(long, short, value_delimiter = ',', value_name = "FORMAT")]
    pub format: Vec<String>,
    /// Write to this file instead of standard output (one format).
    #[arg(long, short, value_name = "FILE", conflicts_with = "out_dir")]
    pub out: Option<PathBuf>,
    /// Write each format to RUN.<ext> in this folder (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct FetchArgs {
    /// arxiv, s2, openalex or crossref.
    #[arg(value_parser = parse_source)]
    pub source: hypatia_sources::SourceKind,
    /// What to search for.
    #[arg(required = true)]
    pub query: Vec<String>,
    /// At most this many papers (1 to 1000).
    #[arg(long, default_value_t = 25, value_parser = parse_fetch_max)]
    pub max: usize,
    /// Publication years: 2020..2024 or 2021.
    #[arg(long)]
    pub year: Option<YearRange>,
    /// Do not try another source when this one fails.
    #[arg(long)]
    pub no_fallback: bool,
    /// Ask the API again even for what the response cache holds.
    #[arg(long)]
    pub refresh: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct EnrichArgs {
    /// Look up at most this many papers.
    #[arg(long, default_value_t = 200, value_parser = parse_fetch_max)]
    pub max: usize,
    #[arg(long)]
    pub refresh: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum GraphCommand {
    /// Fetch the references and citations of the project's papers (those with a DOI, an arXiv id, or a
    /// Semantic Scholar id from `fetch s2` or `--add`).
    Expand {
        /// 1: the project's papers; 2: also the papers added by the first step (needs --add).
        #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=3))]
        depth: u32,
        /// References and citations fetched per paper, each.
        #[arg(long, default_value_t = 50, value_parser = parse_fetch_max)]
        max: usize,
        /// Also add the cited and citing papers to the project.
        #[arg(long)]
        add: bool,
        /// Expand papers already expanded again.
        #[arg(long)]
        refresh: bool,
        #[arg(long)]
        json: bool,
    },
    /// Nodes, edges, components and the most cited papers of the stored graph.
    Stats {
        #[arg(long)]
        json: bool,
    },
    /// Write the stored graph as Graphviz DOT or GraphML.
    Export {
        #[arg(long, default_value = "dot", value_parser = ["dot", "graphml"])]
        format: String,
        /// Write to this file (default: stdout).
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn parse_source(text: &str) -> Result<hypatia_sources::SourceKind, String> {
    text.parse()
}

fn parse_fetch_max(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=1000).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a number from 1 to 1000")),
    }
}

#[derive(Debug, Subcommand)]
pub enum SteerCommand {
    /// Put a paper's passages into the evidence (first among them).
    Pin { paper: String },
    /// Keep a paper's passages out of the evidence.
    Exclude { paper: String },
    /// Undo a pin or an exclusion.
    Release { paper: String },
    /// Your critique of a hypothesis: its reviewer and its next revision are given it.
    Critique { hypothesis: String, critique: String },
    /// One more round of revision and tournament (a completed run goes on: `hypatia resume RUN`).
    Round {
        #[arg(long, default_value = "asked for by the user")]
        reason: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RunsCommand {
    /// Every run in the project, newest first.
    List {
        #[arg(long)]
        json: bool,
    },
    /// One run's ranked hypotheses, reviews and usage.
    Show {
        run: String,
        /// The same object `hypatia review --json` prints.
        #[arg(long)]
        json: bool,
    },
    /// Steer a run, running here or elsewhere: pin or exclude a paper, critique a hypothesis, or ask
    /// for another round. Journaled; whoever drives the run takes it into every task not yet sent.
    Steer {
        run: String,
        #[command(subcommand)]
        action: SteerCommand,
    },
    /// End an interrupted run for good, as `cancelled` (what it found stays; resume no longer applies).
    Cancel {
        run: String,
        /// Recorded in the journal as the reason.
        #[arg(long, default_value = "cancelled by the user")]
        reason: String,
    },
}
