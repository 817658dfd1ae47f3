//! A large corpus made deterministically from a small one: every generated
//! abstract is a new mix of real sentences, so term statistics stay those
//! of scientific text while the corpus grows.

use std::io::Write;
use std::path::Path;

use hypatia_core::SplitMix64;

pub struct SourceDoc {
    pub title: String,
    pub sentences: Vec<String>,
}

/// Writes `count` BEIR documents to `out`: the source documents first, as
/// they are, then generated ones (title words of one source reordered, 3 to
/// 9 sentences drawn from all sources).
pub fn write_corpus(sources: &[SourceDoc], count: usize, seed: u64, out: &Path) -> std::io::Result<()> {
    let mut rng = SplitMix64::new(seed);
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let sentences: Vec<&str> = sources
        .iter()
        .flat_map(|d| d.sentences.iter().map(String::as_str))
        .collect();
    for index in 0..count {
        let (title, text) = match sources.get(index) {
            Some(doc) => (doc.title.clone(), doc.sentences.join(" ")),
            None => {
                let base = &sources[rng.below(sources.len())];
                let mut words: Vec<&str> = base.title.split_whitespace().collect();
                for i in (1..words.len()).rev() {
                    words.swap(i, rng.below(i + 1));
                }
                let title = format!("{} (variant {index})", words.join(" "));
                let length = 3 + rng.below(7);
                let text: Vec<&str> = (0..length).map(|_| sentences[rng.below(sentences.len())]).collect();
                (title, text.join(" "))
            }
        };
        let line = serde_json::json!({"_id": format!("b{index}"), "title": title, "text": text});
        writeln!(file, "{line}")?;
    }
    file.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_corpus() {
        let sources = vec![
            SourceDoc {
                title: "Alpha beta gamma".into(),
                sentences: vec!["One.".into(), "Two.".into()],
            },
            SourceDoc {
                title: "Delta epsilon".into(),
                sentences: vec!["Three.".into()],
            },
        ];
        let dir = tempfile::tempdir().expect("tempdir");
        let (a, b, c) = (dir.path().join("a"), dir.path().join("b"), dir.path().join("c"));
        write_corpus(&sources, 50, 7, &a).expect("write");
        write_corpus(&sources, 50, 7, &b).expect("write");
        write_corpus(&sources, 50, 8, &c).expect("write");
        let read = |p: &Path| std::fs::read_to_string(p).expect("read");
        assert_eq!(read(&a), read(&b));
        assert_ne!(read(&a), read(&c));
        assert_eq!(read(&a).lines().count(), 50);
        assert!(read(&a).lines().next().is_some_and(|l| l.contains("Alpha beta gamma")));
    }
}
