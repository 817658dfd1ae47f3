//! The evidence graph: hypotheses → the passages they cite → the papers those are from, revisions →
//! what they revise, and citations between papers where known. Held in `petgraph`; written as DOT
//! here and drawn as SVG by the HTML report.

use std::collections::BTreeMap;
use std::fmt::Write;

use petgraph::graph::{DiGraph, NodeIndex};
use petgraph::visit::EdgeRef;

use hypatia_research::{Relation, Support};

use crate::document::ExportDocument;
use crate::escape;

#[derive(Debug, Clone, PartialEq)]
pub enum Node {
    Hypothesis {
        id: String,
        rank: usize,
        rating: f64,
        statement: String,
    },
    Passage {
        id: String,
    },
    Paper {
        key: String,
        title: String,
        year: Option<i32>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Edge {
    /// Hypothesis → passage, with the reviewer's judgement of the citation.
    Cites(Option<Support>),
    /// Passage → paper.
    PartOf,
    /// Revised hypothesis → the one it revises.
    Revises,
    /// Paper → paper it cites.
    PaperCites,
    /// Passage ↔ passage of another paper that a model judged to contradict it.
    Contradicts,
}

pub struct EvidenceGraph {
    pub graph: DiGraph<Node, Edge>,
}

impl EvidenceGraph {
    pub fn build(doc: &ExportDocument) -> EvidenceGraph {
        let mut graph = DiGraph::new();
        let mut hypotheses = BTreeMap::new();
        let mut passages = BTreeMap::new();
        let mut papers = BTreeMap::new();
        for paper in doc.papers.iter().filter(|p| p.cited) {
            let node = graph.add_node(Node::Paper {
                key: paper.key.clone(),
                title: paper.title.clone(),
                year: paper.year,
            });
            papers.insert(paper.paper_id.clone(), node);
        }
        for hypothesis in &doc.hypotheses {
            let node = graph.add_node(Node::Hypothesis {
                id: hypothesis.id.clone(),
                rank: hypothesis.rank,
                rating: hypothesis.rating,
                statement: hypothesis.statement.clone(),
            });
            hypotheses.insert(hypothesis.id.clone(), node);
        }
        for hypothesis in &doc.hypotheses {
            let from = hypotheses[&hypothesis.id];
            for citation in &hypothesis.citations {
                let passage = *passages.entry(citation.passage_id.clone()).or_insert_with(|| {
                    graph.add_node(Node::Passage {
                        id: citation.passage_id.to_string(),
                    })
                });
                graph.update_edge(from, passage, Edge::Cites(citation.support));
                if let Some(&paper) = papers.get(&citation.paper_id) {
                    graph.update_edge(passage, paper, Edge::PartOf);
                }
            }
            if let Some(parent) = hypothesis.parent.as_ref().and_then(|p| hypotheses.get(p)) {
                graph.update_edge(from, *parent, Edge::Revises);
            }
        }
        let contradictions = doc
            .synthesis
            .iter()
            .flat_map(|s| s.relations.iter())
            .filter(|r| r.relation == Relation::Contradict);
        for relation in contradictions {
            let mut node = |id: &hypatia_core::PassageId| {
                *passages
                    .entry(id.clone())
                    .or_insert_with(|| graph.add_node(Node::Passage { id: id.to_string() }))
            };
            let (first, second) = (node(&relation.first), node(&relation.second));
            for (id, passage) in [(&relation.first, first), (&relation.second, second)] {
                if let Some(&paper) = papers.get(&id.paper_id()) {
                    graph.update_edge(passage, paper, Edge::PartOf);
                }
            }
            graph.update_edge(first, second, Edge::Contradicts);
        }
        for edge in &doc.citation_edges {
            if let (Some(&citing), Some(&cited)) = (papers.get(&edge.citing), papers.get(&edge.cited)) {
                graph.update_edge(citing, cited, Edge::PaperCites);
            }
        }
        EvidenceGraph { graph }
    }

    /// Stable DOT identifiers: `h:h3`, `s:p…#1`, `p:key`.
    fn dot_id(&self, node: NodeIndex) -> String {
        match &self.graph[node] {
            Node::Hypothesis { id, .. } => format!("h:{id}"),
            Node::Passage { id } => format!("s:{id}"),
            Node::Paper { key, .. } => format!("p:{key}"),
        }
    }

    pub fn nodes_of(&self, kind: fn(&Node) -> bool) -> Vec<NodeIndex> {
        self.graph.node_indices().filter(|&n| kind(&self.graph[n])).collect()
    }
}

pub fn is_hypothesis(node: &Node) -> bool {
    matches!(node, Node::Hypothesis { .. })
}

pub fn is_passage(node: &Node) -> bool {
    matches!(node, Node::Passage { .. })
}

pub fn is_paper(node: &Node) -> bool {
    matches!(node, Node::Paper { .. })
}

/// The graph in Graphviz's DOT language, hypotheses on the left and papers on the right.
pub fn render_dot(doc: &ExportDocument) -> String {
    let evidence = EvidenceGraph::build(doc);
    let graph = &evidence.graph;
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Evidence graph of Hypatia run {} ({}).",
        doc.run_id, doc.generator
    );
    if let Some(notice) = &doc.notice {
        let _ = writeln!(out, "// {}", escape::one_line(notice));
    }
    let _ = writeln!(out, "digraph \"{}\" {{", escape::dot(&doc.run_id));
    let _ = writeln!(
        out,
        "  graph [rankdir=LR, label=\"{}\", labelloc=t, fontname=\"Helvetica\"];",
        escape::dot(&escape::truncate(&doc.question, 120))
    );
    out.push_str("  node [fontname=\"Helvetica\", fontsize=10];\n  edge [fontname=\"Helvetica\", fontsize=9];\n");
    for (name, kind) in [
        ("hypotheses", is_hypothesis as fn(&Node) -> bool),
        ("passages", is_passage),
        ("papers", is_paper),
    ] {
        let _ = writeln!(
            out,
            "  subgraph cluster_{name} {{\n    label=\"{name}\"; style=dashed; color=grey;"
        );
        for node in evidence.nodes_of(kind) {
            let (label, attributes) = match &graph[node] {
                Node::Hypothesis {
                    id,
                    rank,
                    rating,
                    statement,
                } => (
                    format!("#{rank} {id} ({rating:.0})\n{}", escape::truncate(statement, 60)),
                    "shape=box, style=\"rounded,filled\", fillcolor=\"#dbe9f6\"",
                ),
                Node::Passage { id } => (id.clone(), "shape=note, style=filled, fillcolor=\"#fdf1d6\""),
                Node::Paper { key, title, year } => (
                    format!(
                        "{}{}\n[{key}]",
                        escape::truncate(title, 50),
                        year.map_or(String::new(), |y| format!(" ({y})"))
                    ),
                    "shape=box, style=filled, fillcolor=\"#e3f1e0\"",
                ),
            };
            let label = label.split('\n').map(escape::dot).collect::<Vec<_>>().join("\\n");
            let _ = writeln!(
                out,
                "    \"{}\" [label=\"{label}\", {attributes}];",
                escape::dot(&evidence.dot_id(node))
            );
        }
        out.push_str("  }\n");
    }
    for edge in graph.edge_references() {
        let style = match edge.weight() {
            Edge::Cites(None | Some(Support::Supports)) => "label=\"cites\"",
            Edge::Cites(Some(Support::Contradicts)) => {
                "label=\"cites: contradicts\", color=\"#b3261e\", fontcolor=\"#b3261e\""
            }
            Edge::Cites(Some(Support::Unrelated)) => {
                "label=\"cites: does not address\", style=dashed, color=\"#8a6d00\""
            }
            Edge::PartOf => "style=dashed, arrowhead=none",
            Edge::Revises => "label=\"revises\", style=dotted",
            Edge::PaperCites => "label=\"cites\", color=\"#2e7d32\"",
            Edge::Contradicts => {
                "label=\"contradicts\", dir=both, color=\"#b3261e\", fontcolor=\"#b3261e\", style=bold"
            }
        };
        let _ = writeln!(
            out,
            "  \"{}\" -> \"{}\" [{style}];",
            escape::dot(&evidence.dot_id(edge.source())),
            escape::dot(&evidence.dot_id(edge.target()))
        );
    }
    out.push_str("}\n");
    out
}
