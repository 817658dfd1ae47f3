//! The citation graph around a project: nodes are papers by key (`doi:…`, `arxiv:…`, `s2:…`), those
//! in the project carrying their paper id; an edge `a → b` says a cites b. Pure: built from stored
//! edges, asked about neighbours, co-citation and bibliographic coupling, written as DOT or GraphML.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PaperNode {
    pub key: String,
    pub title: Option<String>,
    /// Set when the paper is in the project.
    pub paper_id: Option<String>,
}

#[derive(Debug, Default)]
pub struct CitationGraph {
    graph: DiGraph<PaperNode, ()>,
    by_key: HashMap<String, NodeIndex>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphStats {
    pub nodes: usize,
    pub edges: usize,
    /// Papers of the project in the graph.
    pub project_papers: usize,
    /// Edges between two papers of the project.
    pub edges_within_project: usize,
    /// Weakly connected components.
    pub components: usize,
    /// The most cited papers in the graph, with how many papers in it cite them.
    pub most_cited: Vec<(PaperNode, usize)>,
}

impl CitationGraph {
    /// Adds a paper, or tells the graph more about one it has (a title, a project id).
    pub fn add_paper(&mut self, key: &str, title: Option<&str>, paper_id: Option<&str>) -> NodeIndex {
        if let Some(&index) = self.by_key.get(key) {
            let node = &mut self.graph[index];
            if node.title.is_none() {
                node.title = title.map(str::to_owned);
            }
            if node.paper_id.is_none() {
                node.paper_id = paper_id.map(str::to_owned);
            }
            return index;
        }
        let index = self.graph.add_node(PaperNode {
            key: key.to_owned(),
            title: title.map(str::to_owned),
            paper_id: paper_id.map(str::to_owned),
        });
        self.by_key.insert(key.to_owned(), index);
        index
    }

    /// `citing` cites `cited`; an edge already there is not added twice, a self-citation not at all.
    pub fn add_citation(&mut self, citing: &str, cited: &str) {
        if citing == cited {
            return;
        }
        let from = self.add_paper(citing, None, None);
        let to = self.add_paper(cited, None, None);
        if self.graph.find_edge(from, to).is_none() {
            self.graph.add_edge(from, to, ());
        }
    }

    pub fn paper(&self, key: &str) -> Option<&PaperNode> {
        self.by_key.get(key).map(|&index| &self.graph[index])
    }

    fn linked(&self, key: &str, direction: Direction) -> Vec<&PaperNode> {
        let Some(&index) = self.by_key.get(key) else {
            return Vec::new();
        };
        let mut linked: Vec<&PaperNode> = self
            .graph
            .neighbors_directed(index, direction)
            .map(|n| &self.graph[n])
            .collect();
        linked.sort_by(|a, b| a.key.cmp(&b.key));
        linked
    }

    /// What `key` cites.
    pub fn references(&self, key: &str) -> Vec<&PaperNode> {
        self.linked(key, Direction::Outgoing)
    }

    /// What cites `key`.
    pub fn cited_by(&self, key: &str) -> Vec<&PaperNode> {
        self.linked(key, Direction::Incoming)
    }

    /// Both, each paper once.
    pub fn neighbours(&self, key: &str) -> Vec<&PaperNode> {
        let mut all = self.references(key);
        all.extend(self.cited_by(key));
        all.sort_by(|a, b| a.key.cmp(&b.key));
        all.dedup_by(|a, b| a.key == b.key);
        all
    }

    fn keys(&self, key: &str, direction: Direction) -> BTreeSet<&str> {
        self.linked(key, direction)
            .into_iter()
            .map(|n| n.key.as_str())
            .collect()
    }

    /// How many papers cite both (Small's co-citation).
    pub fn co_citation(&self, a: &str, b: &str) -> usize {
        self.keys(a, Direction::Incoming)
            .intersection(&self.keys(b, Direction::Incoming))
            .count()
    }

    /// How many references both share (Kessler's bibliographic coupling).
    pub fn coupling(&self, a: &str, b: &str) -> usize {
        self.keys(a, Direction::Outgoing)
            .intersection(&self.keys(b, Direction::Outgoing))
            .count()
    }

    fn strongest(&self, key: &str, direction: Direction, limit: usize) -> Vec<(&PaperNode, usize)> {
        // Papers linked to `key` the other way round, through the shared neighbours.
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        let back = match direction {
            Direction::Incoming => Direction::Outgoing,
            Direction::Outgoing => Direction::Incoming,
        };
        for shared in self.linked(key, direction) {
            for other in self.linked(&shared.key, back) {
                if other.key != key {
                    *counts.entry(other.key.as_str()).or_default() += 1;
                }
            }
        }
        let mut ranked: Vec<(&PaperNode, usize)> = counts
            .into_iter()
            .filter_map(|(k, n)| Some((self.paper(k)?, n)))
            .collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.key.cmp(&b.0.key)));
        ranked.truncate(limit);
        ranked
    }

    /// The papers most often cited together with `key`.
    pub fn most_co_cited_with(&self, key: &str, limit: usize) -> Vec<(&PaperNode, usize)> {
        self.strongest(key, Direction::Incoming, limit)
    }

    /// The papers sharing the most references with `key`.
    pub fn most_coupled_with(&self, key: &str, limit: usize) -> Vec<(&PaperNode, usize)> {
        self.strongest(key, Direction::Outgoing, limit)
    }

    pub fn stats(&self) -> GraphStats {
        let in_project = |index: NodeIndex| self.graph[index].paper_id.is_some();
        let mut most_cited: Vec<(PaperNode, usize)> = self
            .graph
            .node_indices()
            .map(|index| {
                let count = self.graph.neighbors_directed(index, Direction::Incoming).count();
                (self.graph[index].clone(), count)
            })
            .filter(|(_, count)| *count > 0)
            .collect();
        most_cited.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.key.cmp(&b.0.key)));
        most_cited.truncate(5);
        GraphStats {
            nodes: self.graph.node_count(),
            edges: self.graph.edge_count(),
            project_papers: self.graph.node_indices().filter(|&i| in_project(i)).count(),
            edges_within_project: self
                .graph
                .edge_indices()
                .filter_map(|e| self.graph.edge_endpoints(e))
                .filter(|&(a, b)| in_project(a) && in_project(b))
                .count(),
            components: petgraph::algo::connected_components(&self.graph),
            most_cited,
        }
    }

    fn sorted_nodes(&self) -> Vec<NodeIndex> {
        let mut nodes: Vec<NodeIndex> = self.graph.node_indices().collect();
        nodes.sort_by(|a, b| self.graph[*a].key.cmp(&self.graph[*b].key));
        nodes
    }

    fn sorted_edges(&self) -> Vec<(&str, &str)> {
        let mut edges: Vec<(&str, &str)> = self
            .graph
            .edge_indices()
            .filter_map(|e| self.graph.edge_endpoints(e))
            .map(|(a, b)| (self.graph[a].key.as_str(), self.graph[b].key.as_str()))
            .collect();
        edges.sort();
        edges
    }

    /// Every citation (citing, cited), in key order.
    pub fn citations(&self) -> Vec<(&PaperNode, &PaperNode)> {
        self.sorted_edges()
            .into_iter()
            .filter_map(|(a, b)| Some((self.paper(a)?, self.paper(b)?)))
            .collect()
    }

    /// Graphviz DOT: project papers filled, others outlined; labels are titles (or keys).
    pub fn to_dot(&self) -> String {
        let quote = |text: &str| {
            let mut out = String::from("\"");
            for c in text.chars() {
                match c {
                    '"' => out.push_str("\\\""),
                    '\\' => out.push_str("\\\\"),
                    '\n' | '\r' => out.push(' '),
                    c => out.push(c),
                }
            }
            out.push('"');
            out
        };
        let mut out = String::from("digraph citations {\n  rankdir=LR;\n  node [shape=box, fontsize=10];\n");
        for index in self.sorted_nodes() {
            let node = &self.graph[index];
            let label = short_label(node);
            let style = if node.paper_id.is_some() {
                ", style=filled, fillcolor=\"#dbe9f6\""
            } else {
                ""
            };
            let _ = writeln!(out, "  {} [label={}{style}];", quote(&node.key), quote(&label));
        }
        for (a, b) in self.sorted_edges() {
            let _ = writeln!(out, "  {} -> {};", quote(a), quote(b));
        }
        out.push_str("}\n");
        out
    }

    /// GraphML with `title`, `paper_id` and `in_project` node attributes.
    pub fn to_graphml(&self) -> String {
        let xml = |text: &str| {
            text.chars()
                .filter(|c| !c.is_control() || *c == '\t')
                .collect::<String>()
                .replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
                .replace('"', "&quot;")
        };
        let mut out = String::from(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<graphml xmlns=\"http://graphml.graphdrawing.org/xmlns\">\n  \
             <key id=\"title\" for=\"node\" attr.name=\"title\" attr.type=\"string\"/>\n  \
             <key id=\"paper_id\" for=\"node\" attr.name=\"paper_id\" attr.type=\"string\"/>\n  \
             <key id=\"in_project\" for=\"node\" attr.name=\"in_project\" attr.type=\"boolean\"/>\n  \
             <graph id=\"citations\" edgedefault=\"directed\">\n",
        );
        for index in self.sorted_nodes() {
            let node = &self.graph[index];
            let _ = writeln!(out, "    <node id=\"{}\">", xml(&node.key));
            if let Some(title) = &node.title {
                let _ = writeln!(out, "      <data key=\"title\">{}</data>", xml(title));
            }
            if let Some(id) = &node.paper_id {
                let _ = writeln!(out, "      <data key=\"paper_id\">{}</data>", xml(id));
            }
            let _ = writeln!(out, "      <data key=\"in_project\">{}</data>", node.paper_id.is_some());
            out.push_str("    </node>\n");
        }
        for (number, (a, b)) in self.sorted_edges().into_iter().enumerate() {
            let _ = writeln!(
                out,
                "    <edge id=\"e{number}\" source=\"{}\" target=\"{}\"/>",
                xml(a),
                xml(b)
            );
        }
        out.push_str("  </graph>\n</graphml>\n");
        out
    }
}

fn short_label(node: &PaperNode) -> String {
    let title = node.title.as_deref().unwrap_or(&node.key);
    match title.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &title[..cut]),
        None => title.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// a and b both cite c and d; e cites a and b; f cites a.
    fn graph() -> CitationGraph {
        let mut graph = CitationGraph::default();
        graph.add_paper("a", Some("Paper A"), Some("p000000000001"));
        graph.add_paper("b", Some("Paper \"B\" <x>"), Some("p000000000002"));
        for (from, to) in [
            ("a", "c"),
            ("a", "d"),
            ("b", "c"),
            ("b", "d"),
            ("e", "a"),
            ("e", "b"),
            ("f", "a"),
            ("a", "c"),
            ("a", "a"),
        ] {
            graph.add_citation(from, to);
        }
        graph
    }

    #[test]
    fn neighbours_co_citation_and_coupling() {
        let graph = graph();
        let keys = |nodes: Vec<&PaperNode>| nodes.into_iter().map(|n| n.key.clone()).collect::<Vec<_>>();
        assert_eq!(keys(graph.references("a")), ["c", "d"]);
        assert_eq!(keys(graph.cited_by("a")), ["e", "f"]);
        assert_eq!(keys(graph.neighbours("a")), ["c", "d", "e", "f"]);
        assert_eq!(graph.co_citation("a", "b"), 1, "e cites both");
        assert_eq!(graph.coupling("a", "b"), 2, "both cite c and d");
        assert_eq!(graph.co_citation("c", "d"), 2);
        assert_eq!(graph.coupling("a", "e"), 0);
        let coupled: Vec<(String, usize)> = graph
            .most_coupled_with("a", 3)
            .into_iter()
            .map(|(n, k)| (n.key.clone(), k))
            .collect();
        assert_eq!(coupled, [("b".to_owned(), 2)]);
        let co_cited: Vec<(String, usize)> = graph
            .most_co_cited_with("c", 3)
            .into_iter()
            .map(|(n, k)| (n.key.clone(), k))
            .collect();
        assert_eq!(co_cited, [("d".to_owned(), 2)]);
        assert!(graph.references("nope").is_empty());
    }

    #[test]
    fn stats_count_what_is_there() {
        let stats = graph().stats();
        assert_eq!(
            (stats.nodes, stats.edges, stats.project_papers, stats.components),
            (6, 7, 2, 1)
        );
        assert_eq!(stats.edges_within_project, 0);
        assert_eq!(stats.most_cited[0].1, 2);
    }

    #[test]
    fn exports_escape_titles() {
        let graph = graph();
        let dot = graph.to_dot();
        assert!(dot.contains("\"a\" -> \"c\";"), "{dot}");
        assert!(dot.contains("Paper \\\"B\\\" <x>"), "{dot}");
        let graphml = graph.to_graphml();
        assert!(graphml.contains("Paper &quot;B&quot; &lt;x&gt;"), "{graphml}");
        assert_eq!(graphml.matches("<edge ").count(), 7);
    }
}
