//! Charts as inline SVG, drawn from the document alone: no script, no font or image to fetch.

use std::collections::BTreeMap;
use std::fmt::Write;

use crate::document::{ExportDocument, HypothesisEntry};
use crate::escape::{html, truncate};
use crate::graph::{EvidenceGraph, Node, is_hypothesis, is_paper, is_passage};

/// Colour-blind-safe categorical palette (Okabe–Ito, then Tol's muted).
const PALETTE: [&str; 12] = [
    "#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#332288", "#117733", "#882255",
    "#44AA99", "#999933",
];

pub fn colour(index: usize) -> &'static str {
    PALETTE[index % PALETTE.len()]
}

const SCORE_NAMES: [&str; 4] = ["grounding", "novelty", "testability", "significance"];
const SCORE_COLOURS: [&str; 4] = ["#0072B2", "#E69F00", "#009E73", "#CC79A7"];

fn open_svg(out: &mut String, width: u32, height: u32, title: &str, description: &str) {
    let _ = write!(
        out,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" class=\"chart\" viewBox=\"0 0 {width} {height}\" width=\"{width}\" \
         height=\"{height}\" role=\"img\"><title>{}</title><desc>{}</desc>",
        html(title),
        html(description)
    );
}

/// Rounded "nice" tick step for a range.
fn tick_step(range: f64, ticks: f64) -> f64 {
    let raw = (range / ticks).max(1e-9);
    let magnitude = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 2.5, 5.0, 10.0]
        .into_iter()
        .map(|m| m * magnitude)
        .find(|s| *s >= raw)
        .unwrap_or(10.0 * magnitude);
    step.max(1.0)
}

/// Each hypothesis's Elo rating after each round, starting from 1200 when it entered.
pub fn ratings(doc: &ExportDocument) -> String {
    let series: Vec<(&HypothesisEntry, Vec<(u32, f64)>)> = doc
        .hypotheses
        .iter()
        .filter(|h| !h.rating_history.is_empty())
        .map(|h| {
            let mut points = vec![(h.round.saturating_sub(1), hypatia_runs::elo::INITIAL_RATING)];
            points.extend(h.rating_history.iter().map(|p| (p.round, p.rating)));
            (h, points)
        })
        .collect();
    if series.is_empty() {
        return "<p class=\"empty\">No round has finished yet, so there are no ratings to chart.</p>".to_owned();
    }
    let max_round = series
        .iter()
        .flat_map(|(_, p)| p.iter().map(|(r, _)| *r))
        .max()
        .unwrap_or(1)
        .max(1);
    let values: Vec<f64> = series.iter().flat_map(|(_, p)| p.iter().map(|(_, v)| *v)).collect();
    let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    let step = tick_step((high - low).max(20.0), 5.0);
    let (low, high) = ((low / step).floor() * step, (high / step).ceil() * step);
    let (low, high) = if high - low < step {
        (low - step, high + step)
    } else {
        (low, high)
    };
    let (width, height, left, right, top, bottom) = (720.0, 300.0, 56.0, 90.0, 16.0, 40.0);
    let x = |round: u32| left + (width - left - right) * f64::from(round) / f64::from(max_round);
    let y = |rating: f64| top + (height - top - bottom) * (high - rating) / (high - low);

    let mut out = String::new();
    open_svg(
        &mut out,
        width as u32,
        height as u32,
        "Elo rating of each hypothesis across rounds",
        "One line per hypothesis: its rating when it entered (1200) and after each round's tournament.",
    );
    let mut tick = low;
    while tick <= high + 1e-9 {
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text class=\"axis\" x=\"{:.1}\" \
             y=\"{:.1}\" text-anchor=\"end\">{tick:.0}</text>",
            width - right,
            y(tick),
            y(tick),
            left - 6.0,
            y(tick) + 4.0
        );
        tick += step;
    }
    for round in 0..=max_round {
        let label = if round == 0 {
            "start".to_owned()
        } else {
            format!("round {round}")
        };
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{label}</text>",
            x(round),
            height - bottom + 18.0
        );
    }
    for (index, (h, points)) in series.iter().enumerate() {
        let colour = colour(index);
        let path: Vec<String> = points
            .iter()
            .map(|(r, v)| format!("{:.1},{:.1}", x(*r), y(*v)))
            .collect();
        let _ = write!(
            out,
            "<g class=\"series\"><title>{} (rank {}): {}</title><polyline fill=\"none\" stroke=\"{colour}\" \
             stroke-width=\"2\" points=\"{}\"/>",
            html(&h.id),
            h.rank,
            points
                .iter()
                .map(|(r, v)| format!("round {r}: {v:.0}"))
                .collect::<Vec<_>>()
                .join(", "),
            path.join(" ")
        );
        for (r, v) in points {
            let _ = write!(
                out,
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{colour}\"/>",
                x(*r),
                y(*v)
            );
        }
        out.push_str("</g>");
    }
    // End labels, nudged apart so lines ending close together stay readable.
    let mut labels: Vec<(f64, f64, usize, String)> = series
        .iter()
        .enumerate()
        .filter_map(|(index, (h, points))| {
            let (r, v) = points.last()?;
            Some((x(*r) + 8.0, y(*v) + 4.0, index, format!("{} {v:.0}", h.id)))
        })
        .collect();
    labels.sort_by(|a, b| a.1.total_cmp(&b.1));
    for i in 1..labels.len() {
        if (labels[i].0 - labels[i - 1].0).abs() < 1.0 && labels[i].1 - labels[i - 1].1 < 12.0 {
            labels[i].1 = labels[i - 1].1 + 12.0;
        }
    }
    for (lx, ly, index, text) in labels {
        let _ = write!(
            out,
            "<text class=\"label\" x=\"{lx:.1}\" y=\"{ly:.1}\" fill=\"{}\">{}</text>",
            colour(index),
            html(&text)
        );
    }
    out.push_str("</svg>");
    out
}

/// The four review scores of each hypothesis, as bars out of 5.
pub fn scores(doc: &ExportDocument) -> String {
    if doc.hypotheses.is_empty() {
        return "<p class=\"empty\">No hypotheses yet.</p>".to_owned();
    }
    let (label_width, bar_width, bar_height, gap) = (150.0, 300.0, 9.0, 14.0);
    let row_height = 4.0 * bar_height + gap;
    let legend_height = 26.0;
    let height = legend_height + row_height * doc.hypotheses.len() as f64;
    let width = label_width + bar_width + 40.0;
    let mut out = String::new();
    open_svg(
        &mut out,
        width as u32,
        height as u32,
        "Review scores of each hypothesis",
        "For each hypothesis in rank order: grounding, novelty, testability and significance, each from 1 to 5.",
    );
    for (index, name) in SCORE_NAMES.iter().enumerate() {
        let x = label_width + index as f64 * 80.0;
        let _ = write!(
            out,
            "<rect x=\"{x:.1}\" y=\"4\" width=\"10\" height=\"10\" fill=\"{}\"/><text class=\"axis\" x=\"{:.1}\" \
             y=\"13\">{name}</text>",
            SCORE_COLOURS[index],
            x + 14.0
        );
    }
    for (row, h) in doc.hypotheses.iter().enumerate() {
        let top = legend_height + row as f64 * row_height;
        let _ = write!(
            out,
            "<text class=\"label\" x=\"0\" y=\"{:.1}\">{}. {}</text>",
            top + 2.0 * bar_height + 4.0,
            h.rank,
            html(&h.id)
        );
        match &h.review {
            None => {
                let _ = write!(
                    out,
                    "<text class=\"axis\" x=\"{label_width}\" y=\"{:.1}\">not reviewed</text>",
                    top + 2.0 * bar_height + 4.0
                );
            }
            Some(review) => {
                let s = review.scores;
                for (index, value) in [s.grounding, s.novelty, s.testability, s.significance]
                    .iter()
                    .enumerate()
                {
                    let y = top + index as f64 * bar_height;
                    let length = bar_width * f64::from(*value) / 5.0;
                    let _ = write!(
                        out,
                        "<rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{bar_width}\" height=\"{:.1}\" class=\"track\"/>\
                         <rect x=\"{label_width}\" y=\"{y:.1}\" width=\"{length:.1}\" height=\"{:.1}\" fill=\"{}\">\
                         <title>{}: {} of 5</title></rect><text class=\"axis value\" x=\"{:.1}\" y=\"{:.1}\">{value}</text>",
                        bar_height - 2.0,
                        bar_height - 2.0,
                        SCORE_COLOURS[index],
                        SCORE_NAMES[index],
                        value,
                        label_width + bar_width + 6.0,
                        y + bar_height - 2.0
                    );
                }
            }
        }
    }
    out.push_str("</svg>");
    out
}

/// How many papers of the evidence set were published each year.
pub fn years(doc: &ExportDocument) -> String {
    let mut per_year: BTreeMap<i32, u32> = BTreeMap::new();
    let mut undated = 0;
    let mut seen = std::collections::BTreeSet::new();
    for passage in &doc.evidence {
        if !seen.insert(&passage.paper_id) {
            continue;
        }
        match passage.year {
            Some(year) => *per_year.entry(year).or_default() += 1,
            None => undated += 1,
        }
    }
    let (Some(&first), Some(&last)) = (per_year.keys().next(), per_year.keys().next_back()) else {
        return format!(
            "<p class=\"empty\">No paper in the evidence set has a publication year ({undated} undated).</p>"
        );
    };
    let max = per_year.values().copied().max().unwrap_or(1).max(1);
    let span = (last - first + 1) as f64;
    let (width, height, left, bottom, top) = (720.0, 220.0, 40.0, 36.0, 12.0);
    let slot = (width - left - 10.0) / span;
    let mut out = String::new();
    open_svg(
        &mut out,
        width as u32,
        height as u32,
        "Publication years of the evidence",
        &format!("Papers in the evidence set per year, {first} to {last}; {undated} without a year."),
    );
    let y = |count: f64| top + (height - top - bottom) * (1.0 - count / f64::from(max));
    for tick in 0..=max {
        if max > 5 && tick % max.div_ceil(5) != 0 && tick != max {
            continue;
        }
        let _ = write!(
            out,
            "<line class=\"grid\" x1=\"{left}\" x2=\"{:.1}\" y1=\"{:.1}\" y2=\"{:.1}\"/><text class=\"axis\" x=\"{:.1}\" \
             y=\"{:.1}\" text-anchor=\"end\">{tick}</text>",
            width - 10.0,
            y(f64::from(tick)),
            y(f64::from(tick)),
            left - 6.0,
            y(f64::from(tick)) + 4.0
        );
    }
    let label_every = ((span / 12.0).ceil() as i32).max(1);
    for year in first..=last {
        let count = per_year.get(&year).copied().unwrap_or(0);
        let x = left + (year - first) as f64 * slot;
        if count > 0 {
            let _ = write!(
                out,
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{}\"><title>{year}: {count} \
                 paper{}</title></rect>",
                x + slot * 0.1,
                y(f64::from(count)),
                slot * 0.8,
                height - bottom - y(f64::from(count)),
                colour(0),
                if count == 1 { "" } else { "s" }
            );
        }
        if (year - first) % label_every == 0 {
            let _ = write!(
                out,
                "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{year}</text>",
                x + slot / 2.0,
                height - bottom + 16.0
            );
        }
    }
    if undated > 0 {
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{undated} undated</text>",
            width - 10.0,
            height - 4.0
        );
    }
    out.push_str("</svg>");
    out
}

/// The evidence graph in three columns: hypotheses, cited passages, papers; nodes link to their
/// sections of the report.
pub fn evidence_graph(doc: &ExportDocument) -> String {
    let evidence = EvidenceGraph::build(doc);
    let graph = &evidence.graph;
    let columns = [
        evidence.nodes_of(is_hypothesis),
        evidence.nodes_of(is_passage),
        evidence.nodes_of(is_paper),
    ];
    if columns[0].is_empty() {
        return "<p class=\"empty\">No hypotheses yet, so no evidence graph.</p>".to_owned();
    }
    let (row, node_height, column_width, node_width, top) = (30.0, 22.0, 250.0, 200.0, 30.0);
    let rows = columns.iter().map(Vec::len).max().unwrap_or(1) as f64;
    let height = top + rows * row + 10.0;
    let width = GRAPH_LEFT + column_width * 2.0 + node_width + 10.0;
    let mut position = BTreeMap::new();
    for (column, nodes) in columns.iter().enumerate() {
        // Centre shorter columns.
        let offset = (rows - nodes.len() as f64) * row / 2.0;
        for (index, node) in nodes.iter().enumerate() {
            position.insert(
                *node,
                (
                    GRAPH_LEFT + column as f64 * column_width,
                    top + offset + index as f64 * row,
                ),
            );
        }
    }
    let mut out = String::new();
    open_svg(
        &mut out,
        width as u32,
        height as u32,
        "Evidence graph",
        "Hypotheses (left) link to the passages they cite (middle), which link to their papers (right).",
    );
    for (column, label) in ["hypotheses", "cited passages", "papers"].iter().enumerate() {
        let _ = write!(
            out,
            "<text class=\"axis\" x=\"{:.1}\" y=\"16\">{label}</text>",
            GRAPH_LEFT + column as f64 * column_width
        );
    }
    use petgraph::visit::EdgeRef;
    for edge in graph.edge_references() {
        let (Some(&(x1, y1)), Some(&(x2, y2))) = (position.get(&edge.source()), position.get(&edge.target())) else {
            continue;
        };
        let (class, path) = match edge.weight() {
            crate::graph::Edge::Revises | crate::graph::Edge::PaperCites | crate::graph::Edge::Contradicts => {
                // Same column: an arc on the left side.
                let (x, a, b) = (x1, y1 + node_height / 2.0, y2 + node_height / 2.0);
                let class = if *edge.weight() == crate::graph::Edge::Contradicts {
                    "edge contradiction"
                } else {
                    "edge lineage"
                };
                (
                    class,
                    format!(
                        "M{x:.1},{a:.1} C{:.1},{a:.1} {:.1},{b:.1} {x:.1},{b:.1}",
                        x - 30.0,
                        x - 30.0
                    ),
                )
            }
            _ => {
                let (sx, sy, tx, ty) = (x1 + node_width, y1 + node_height / 2.0, x2, y2 + node_height / 2.0);
                let mid = (sx + tx) / 2.0;
                (
                    "edge",
                    format!("M{sx:.1},{sy:.1} C{mid:.1},{sy:.1} {mid:.1},{ty:.1} {tx:.1},{ty:.1}"),
                )
            }
        };
        let _ = write!(out, "<path class=\"{class}\" d=\"{path}\"/>");
    }
    for (node, (x, y)) in &position {
        let (href, label, tooltip, class) = match &graph[*node] {
            Node::Hypothesis {
                id,
                rank,
                rating,
                statement,
            } => (
                format!("#hyp-{id}"),
                format!("{rank}. {id} · {rating:.0}"),
                statement.clone(),
                "node hypothesis",
            ),
            Node::Passage { id } => (
                format!("#passage-{}", anchor_id(id)),
                id.clone(),
                id.clone(),
                "node passage",
            ),
            Node::Paper { key, title, year } => (
                format!("#ref-{key}"),
                truncate(title, 30),
                format!("{title}{}", year.map_or(String::new(), |y| format!(" ({y})"))),
                "node paper",
            ),
        };
        let _ = write!(
            out,
            "<a href=\"{}\"><g class=\"{class}\"><title>{}</title><rect x=\"{x:.1}\" y=\"{y:.1}\" width=\"{node_width}\" \
             height=\"{node_height}\" rx=\"4\"/><text x=\"{:.1}\" y=\"{:.1}\">{}</text></g></a>",
            html(&href),
            html(&tooltip),
            x + 6.0,
            y + 15.0,
            html(&label)
        );
    }
    out.push_str("</svg>");
    out
}

/// Room left of the first column for the arcs joining a revision to what it revises.
const GRAPH_LEFT: f64 = 40.0;

/// A passage id as an HTML id: `p3f9a2c1d7e04#2` → `p3f9a2c1d7e04-2`.
pub fn anchor_id(passage: &str) -> String {
    passage.replace('#', "-")
}
