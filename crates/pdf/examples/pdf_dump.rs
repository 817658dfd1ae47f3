//! Prints what Hypatia reads from PDFs: `cargo run -p hypatia-pdf --example pdf_dump -- FILE.pdf…`.
//! With `--pages DIR`, also writes each page's text to DIR/<name>.<page>.txt (for BENCHMARKS.md).

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let pages_dir = args.iter().position(|a| a == "--pages").map(|i| {
        let dir = args.remove(i + 1);
        args.remove(i);
        dir
    });
    for path in args {
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                eprintln!("{path}: {e}");
                continue;
            }
        };
        let started = std::time::Instant::now();
        match hypatia_pdf::read_pdf(&bytes, &hypatia_pdf::Limits::default()) {
            Err(e) => println!("{path}: {e}"),
            Ok(paper) => {
                println!("== {path}: {} pages in {:?}", paper.pages.len(), started.elapsed());
                println!("metadata: {:?}", paper.metadata);
                println!(
                    "abstract: {:?}",
                    paper.abstract_text.as_deref().map(|a| &a[..a.len().min(120)])
                );
                let mut sections: Vec<&str> = paper.passages.iter().map(|p| p.location.section.as_str()).collect();
                sections.dedup();
                println!("sections: {sections:?}");
                println!(
                    "passages: {}, references: {} ({} with DOI)",
                    paper.passages.len(),
                    paper.references.len(),
                    paper.references.iter().filter(|r| r.doi.is_some()).count()
                );
                for passage in paper.passages.iter().take(2) {
                    println!(
                        "  [{} {}] {}",
                        passage.location.section,
                        passage.location.pages_label(),
                        &passage.text[..passage.text.len().min(200)]
                    );
                }
                for reference in paper.references.iter().take(2) {
                    println!(
                        "  ref p{}: {} doi={:?}",
                        reference.page,
                        &reference.text[..reference.text.len().min(120)],
                        reference.doi
                    );
                }
                if !paper.page_errors.is_empty() {
                    println!("page errors: {:?}", paper.page_errors);
                }
                if let Some(dir) = &pages_dir {
                    let stem = std::path::Path::new(&path)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    for (i, text) in paper.pages.iter().enumerate() {
                        let _ = std::fs::write(format!("{dir}/{stem}.{:03}.txt", i + 1), text);
                    }
                }
            }
        }
    }
}
