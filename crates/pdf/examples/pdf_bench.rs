//! Pages per second for Hypatia's PDF reader (extraction, cleaning, layout, passages) on the files
//! given, for BENCHMARKS.md: `cargo run --release -p hypatia-pdf --example pdf_bench -- [--repeat N]
//! [--pages DIR] FILE.pdf…`. Files are read into memory first; each is read `N` times (default 3)
//! and the time is the total over all repeats. With `--pages DIR`, each page's text is written to
//! `DIR/<name>.<page>.txt` for the quality comparison (`crates/bench/peer/pdf_quality.py`).

use std::time::Instant;

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut take = |flag: &str| -> Option<String> {
        let at = args.iter().position(|a| a == flag)?;
        let value = args.get(at + 1).cloned();
        args.drain(at..(at + 2).min(args.len()));
        value
    };
    let repeat: usize = take("--repeat").and_then(|n| n.parse().ok()).unwrap_or(3);
    let pages_dir = take("--pages");
    let files: Vec<(String, Vec<u8>)> = args
        .iter()
        .map(|path| {
            (
                path.clone(),
                std::fs::read(path).unwrap_or_else(|e| panic!("{path}: {e}")),
            )
        })
        .collect();
    let limits = hypatia_pdf::Limits::default();
    let (mut pages, mut passages) = (0usize, 0usize);
    let started = Instant::now();
    for round in 0..repeat {
        for (path, bytes) in &files {
            let paper = match hypatia_pdf::read_pdf(bytes, &limits) {
                Ok(paper) => paper,
                Err(error) => {
                    eprintln!("{path}: {error}");
                    continue;
                }
            };
            if round == 0 {
                pages += paper.pages.len();
                passages += paper.passages.len();
                if let Some(dir) = &pages_dir {
                    let stem = std::path::Path::new(path)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    for (i, text) in paper.pages.iter().enumerate() {
                        std::fs::write(format!("{dir}/{stem}.{:03}.txt", i + 1), text).expect("write page");
                    }
                }
            }
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "system": "hypatia",
            "files": files.len(),
            "pages": pages,
            "passages": passages,
            "repeat": repeat,
            "seconds": seconds,
            "pages_per_second": (pages * repeat) as f64 / seconds,
        })
    );
}
