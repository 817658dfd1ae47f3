//! A project's citation graph as stored: the edges fetched by `hypatia graph expand`, read back
//! into `hypatia-graph`'s petgraph, with the project's papers recognised under every key they are
//! known by. What `graph stats`/`graph export` and the reports' citation edges read.

mod graph;

pub use graph::{PaperKeys, all_papers, citation_graph, citations_among};
