//! The run's task graph, rebuilt from the run's record whenever it changes.
//!
//! A task appears once everything it needs is known (a review once its
//! hypothesis exists; a round's tournament once the round's reviews are
//! done), so every task in the graph can be sent as soon as it is `Ready`.
//! Everything here is a function of the record, and the record does not
//! depend on the order in which concurrent tasks finished: the same run
//! schedules the same tasks with the same ids and seeds, interrupted or not.

use std::collections::{BTreeMap, HashMap};

use hypatia_agentkit::{content_words, coverage, task_seed};
use hypatia_core::PassageId;
use hypatia_research::{AgentName, Envelope, Payload};
use hypatia_research::{EvidencePassage, Gap, Hypothesis, RunSettings, SynthesisSection};
use hypatia_runs::RunRecord;
use petgraph::Direction;
use petgraph::graph::{DiGraph, NodeIndex};

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    Plan,
    Retrieve,
    /// A synthesis section per sub-question: beside the rounds, blocking none of them.
    Synthesis,
    Generate,
    Revise(u32),
    Review(u32),
    Tournament(u32),
    /// A review asked again because the researcher critiqued a hypothesis already reviewed.
    Rereview,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskState {
    /// Everything it needs is done; not sent yet.
    Ready,
    /// Sent (journaled), no reply yet.
    Sent,
    Done,
    Failed,
}

impl TaskState {
    pub fn is_terminal(self) -> bool {
        matches!(self, TaskState::Done | TaskState::Failed)
    }
}

#[derive(Debug, Clone)]
pub struct TaskNode {
    pub id: String,
    pub stage: Stage,
    pub state: TaskState,
    /// The request to send (already journaled when `Sent`).
    pub request: Envelope,
}

/// Tasks, and edges from each task to the tasks that need it.
#[derive(Debug, Default)]
pub struct TaskGraph {
    pub graph: DiGraph<TaskNode, ()>,
    by_id: HashMap<String, NodeIndex>,
}

impl TaskGraph {
    pub fn node(&self, id: &str) -> Option<&TaskNode> {
        self.by_id.get(id).map(|&index| &self.graph[index])
    }

    /// Tasks to send now, in id order (the order they are journaled in).
    pub fn ready(&self) -> Vec<&TaskNode> {
        let mut ready: Vec<&TaskNode> = self
            .graph
            .node_weights()
            .filter(|node| node.state == TaskState::Ready)
            .collect();
        ready.sort_by(|a, b| (a.stage, &a.id).cmp(&(b.stage, &b.id)));
        ready
    }

    pub fn all_terminal(&self) -> bool {
        self.graph.node_weights().all(|node| node.state.is_terminal())
    }

    /// Tasks that wait on `id`.
    pub fn dependents(&self, id: &str) -> Vec<&TaskNode> {
        let Some(&index) = self.by_id.get(id) else {
            return Vec::new();
        };
        self.graph
            .neighbors_directed(index, Direction::Outgoing)
            .map(|next| &self.graph[next])
            .collect()
    }

    fn add(&mut self, record: &RunRecord, id: String, stage: Stage, request: Envelope, needs: &[&str]) -> TaskState {
        let state = state_of(record, &id);
        let index = self.graph.add_node(TaskNode {
            id: id.clone(),
            stage,
            state,
            request,
        });
        for need in needs {
            if let Some(&from) = self.by_id.get(*need) {
                self.graph.add_edge(from, index, ());
            }
        }
        self.by_id.insert(id, index);
        state
    }

    fn all_terminal_in(&self, stage: Stage) -> bool {
        self.graph
            .node_weights()
            .filter(|node| node.stage == stage)
            .all(|node| node.state.is_terminal())
    }
}

fn state_of(record: &RunRecord, id: &str) -> TaskState {
    match record.replies.get(id) {
        Some(reply) if matches!(reply.payload, Payload::TaskFailed { .. }) => TaskState::Failed,
        Some(_) => TaskState::Done,
        None if record.requests.contains_key(id) => TaskState::Sent,
        None => TaskState::Ready,
    }
}

pub fn hypothesis_id(number: u32) -> String {
    format!("h{number}")
}

/// Builds the graph of every task the record makes known.
pub fn build(record: &RunRecord, settings: &RunSettings) -> TaskGraph {
    let mut graph = TaskGraph::default();
    build_rounds(&mut graph, record, settings);
    add_rereviews(&mut graph, record, settings);
    graph
}

/// Plan, retrieval, then each round as far as the record allows.
fn build_rounds(graph: &mut TaskGraph, record: &RunRecord, settings: &RunSettings) {
    let run = record.run_id.as_str();
    let question = settings.question.clone();
    let seed = |task: &str| task_seed(settings.seed, task);
    let request = |id: &str, to: AgentName, payload: Payload| {
        // A task already sent is sent again exactly as journaled.
        record
            .requests
            .get(id)
            .cloned()
            .unwrap_or_else(|| Envelope::new(run, id, AgentName::Planner, to, payload))
    };

    let plan = request(
        "plan",
        AgentName::Planner,
        Payload::PlanRequest {
            question: question.clone(),
            seed: seed("plan"),
        },
    );
    if !graph.add(record, "plan".into(), Stage::Plan, plan, &[]).is_terminal() {
        return;
    }

    // A failed plan still searches the question.
    let queries = match &record.plan {
        Some(plan) => plan.queries.clone(),
        None => vec![question.clone()],
    };
    let retrieve = request(
        "retrieve",
        AgentName::Retriever,
        Payload::RetrieveRequest {
            queries,
            limit: settings.evidence_limit,
        },
    );
    if !graph
        .add(record, "retrieve".into(), Stage::Retrieve, retrieve, &["plan"])
        .is_terminal()
    {
        return;
    }
    // What the researcher pinned or excluded so far shapes every task built from here on.
    let Some(evidence) = record.working_evidence().filter(|e| !e.is_empty()) else {
        return;
    };
    let evidence = &evidence;
    add_syntheses(graph, record, settings, evidence, &request);
    // Hypotheses say which gap they address, so they wait for the sections that find the gaps
    // (the pair judgements go on beside them).
    let sections_pending = graph
        .graph
        .node_weights()
        .any(|node| node.id.starts_with(RunRecord::SYNTHESIS_TASK_PREFIX) && !node.state.is_terminal());
    if sections_pending {
        return;
    }

    // Round 1: compose, review, tournament.
    let pairs = inspiration_pairs(evidence, settings.hypotheses as usize);
    for (slot, inspiration) in (1..=settings.hypotheses).zip(pairs) {
        let task = format!("r1.gen.{slot:02}");
        let payload = Payload::GenerateRequest {
            question: question.clone(),
            hypothesis_id: hypothesis_id(slot),
            evidence: evidence.clone(),
            gaps: composition_gaps(record, &inspiration),
            inspiration,
            seed: seed(&task),
        };
        let message = request(&task, AgentName::Hypothesis, payload);
        graph.add(record, task, Stage::Generate, message, &["retrieve"]);
    }
    let composed: Vec<&Hypothesis> = record.hypotheses.values().filter(|h| h.round == 1).collect();
    add_reviews(graph, record, settings, 1, &composed, &request);
    if !graph.all_terminal_in(Stage::Generate) || !graph.all_terminal_in(Stage::Review(1)) {
        return;
    }
    add_tournament(graph, record, settings, 1, &composed, &request);

    for round in 2..=record.rounds_of(settings) {
        if !graph.all_terminal_in(Stage::Tournament(round - 1)) {
            return;
        }
        let leaders = leaders_after(record, round - 1, settings.leaders as usize);
        for (index, leader) in leaders.iter().enumerate() {
            let number = settings.hypotheses + (round - 2) * settings.leaders + index as u32 + 1;
            let task = format!("r{round}.revise.{}", leader.id);
            let payload = Payload::ReviseRequest {
                question: question.clone(),
                hypothesis_id: hypothesis_id(number),
                round,
                parent: (*leader).clone(),
                critiques: critiques_of(record, &leader.id, round - 1),
                evidence: evidence.clone(),
                seed: seed(&task),
            };
            let message = request(&task, AgentName::Hypothesis, payload);
            let needs: Vec<String> = graph
                .graph
                .node_weights()
                .filter(|n| n.stage == Stage::Tournament(round - 1))
                .map(|n| n.id.clone())
                .collect();
            let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
            graph.add(record, task, Stage::Revise(round), message, &needs);
        }
        let revised: Vec<&Hypothesis> = record.hypotheses.values().filter(|h| h.round == round).collect();
        add_reviews(graph, record, settings, round, &revised, &request);
        if !graph.all_terminal_in(Stage::Revise(round)) || !graph.all_terminal_in(Stage::Review(round)) {
            return;
        }
        let mut contenders = leaders;
        contenders.extend(revised);
        add_tournament(graph, record, settings, round, &contenders, &request);
    }
}

/// Gaps a composition is given, at most: enough to choose from, few enough to keep the prompt short.
pub const GAPS_PER_COMPOSITION: usize = 3;

/// The gaps a composition around `inspiration` may address: those of the sections that were given an
/// inspiration passage first (the sub-questions the pair speaks to), then the others in plan order,
/// at most [`GAPS_PER_COMPOSITION`].
pub fn composition_gaps(record: &RunRecord, inspiration: &[PassageId]) -> Vec<Gap> {
    let (near, far): (Vec<&SynthesisSection>, Vec<&SynthesisSection>) =
        record.syntheses.values().partition(|section| {
            inspiration
                .iter()
                .any(|id| record.synthesis_passage(section.index, id).is_some())
        });
    near.into_iter()
        .chain(far)
        .flat_map(SynthesisSection::gap_refs)
        .take(GAPS_PER_COMPOSITION)
        .collect()
}

/// Passages a synthesis section is written from: the evidence closest to its sub-question by word
/// overlap, at most this many.
pub const SECTION_PASSAGES: usize = 6;

/// One synthesis section per sub-question of the plan (the question itself when the plan has none),
/// each from the evidence that bears on it. Runs beside the rounds and blocks none of them; a run
/// started before syntheses existed gets none (its settings say so).
fn add_syntheses(
    graph: &mut TaskGraph,
    record: &RunRecord,
    settings: &RunSettings,
    evidence: &[EvidencePassage],
    request: &impl Fn(&str, AgentName, Payload) -> Envelope,
) {
    if !settings.synthesis {
        return;
    }
    for (index, sub_question) in record.sub_questions(settings).into_iter().enumerate() {
        let task = RunRecord::synthesis_task(index);
        let passages = section_evidence(evidence, &sub_question, &settings.question);
        let pairs = related_pairs(&passages);
        // Nothing bears on it: no section is written (a task already sent is still carried out).
        if passages.is_empty() && !record.requests.contains_key(&task) {
            continue;
        }
        let payload = Payload::SynthesisRequest {
            question: settings.question.clone(),
            index: index as u32,
            sub_question,
            evidence: passages,
            seed: task_seed(settings.seed, &task),
        };
        let message = request(&task, AgentName::Reviewer, payload);
        graph.add(record, task, Stage::Synthesis, message, &["retrieve"]);
        let task = relate_task(index);
        if pairs.is_empty() && !record.requests.contains_key(&task) {
            continue;
        }
        let payload = Payload::RelateRequest {
            index: index as u32,
            pairs,
            seed: task_seed(settings.seed, &task),
        };
        let message = request(&task, AgentName::Reviewer, payload);
        graph.add(record, task, Stage::Synthesis, message, &["retrieve"]);
    }
}

pub fn relate_task(index: usize) -> String {
    format!("relate.{}", index + 1)
}

/// Pairs judged per sub-question, at most.
pub const RELATED_PAIRS: usize = 3;
/// Two passages share at least this share of their content words (Jaccard) to be worth comparing.
pub const RELATED_OVERLAP: f64 = 0.08;

/// The pairs of a section's passages that may bear on each other: from different papers, most
/// similar first by word overlap, at most [`RELATED_PAIRS`]; not all n² of them.
fn related_pairs(passages: &[EvidencePassage]) -> Vec<(EvidencePassage, EvidencePassage)> {
    let words: Vec<_> = passages.iter().map(|p| content_words(&p.text)).collect();
    let mut scored = Vec::new();
    for i in 0..passages.len() {
        for j in i + 1..passages.len() {
            if passages[i].paper_id == passages[j].paper_id {
                continue;
            }
            let shared = words[i].intersection(&words[j]).count();
            let union = words[i].union(&words[j]).count();
            let overlap = if union == 0 { 0.0 } else { shared as f64 / union as f64 };
            if overlap >= RELATED_OVERLAP {
                scored.push((overlap, i, j));
            }
        }
    }
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then((a.1, a.2).cmp(&(b.1, b.2))));
    scored
        .into_iter()
        .take(RELATED_PAIRS)
        .map(|(_, i, j)| (passages[i].clone(), passages[j].clone()))
        .collect()
}

/// The evidence sharing most words with `sub_question`, best first (evidence order breaks ties). The
/// run's question counts half: a sub-question phrased apart from the evidence still gets the passages
/// on the question it is part of; evidence sharing no word with either is left out.
fn section_evidence(evidence: &[EvidencePassage], sub_question: &str, question: &str) -> Vec<EvidencePassage> {
    let (terms, whole) = (content_words(sub_question), content_words(question));
    let mut scored: Vec<(f64, &EvidencePassage)> = evidence
        .iter()
        .map(|p| {
            let text = format!("{} {}", p.title, p.text);
            (coverage(&terms, &text) + coverage(&whole, &text) / 2.0, p)
        })
        .filter(|(share, _)| *share > 0.0)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0));
    scored
        .into_iter()
        .take(SECTION_PASSAGES)
        .map(|(_, p)| p.clone())
        .collect()
}

fn add_reviews(
    graph: &mut TaskGraph,
    record: &RunRecord,
    settings: &RunSettings,
    round: u32,
    hypotheses: &[&Hypothesis],
    request: &impl Fn(&str, AgentName, Payload) -> Envelope,
) {
    for hypothesis in hypotheses {
        let task = format!("r{round}.review.{}", hypothesis.id);
        let payload = review_request(record, settings, hypothesis, &task);
        let made_by = producing_task(record, &hypothesis.id);
        let message = request(&task, AgentName::Reviewer, payload);
        graph.add(record, task, Stage::Review(round), message, &[made_by.as_str()]);
    }
}

/// A review of `hypothesis` with the passages it cites (as it was given them, pinned ones too) and
/// every critique the researcher wrote of it so far.
fn review_request(record: &RunRecord, settings: &RunSettings, hypothesis: &Hypothesis, task: &str) -> Payload {
    Payload::ReviewRequest {
        question: settings.question.clone(),
        hypothesis: hypothesis.clone(),
        evidence: hypothesis
            .citations
            .iter()
            .filter_map(|id| record.evidence_passage(id))
            .cloned()
            .collect(),
        seed: task_seed(settings.seed, task),
        user_critiques: record.steering.critiques_of(&hypothesis.id).to_vec(),
    }
}

/// A critique written after a hypothesis's review was sent gets it reviewed again, with the
/// critique, as `user.review.{id}.{critiques}`. Blocks nothing: the rounds go on meanwhile.
fn add_rereviews(graph: &mut TaskGraph, record: &RunRecord, settings: &RunSettings) {
    let run = record.run_id.as_str();
    for (id, critiques) in &record.steering.critiques {
        let Some(hypothesis) = record.hypotheses.get(id) else {
            continue;
        };
        let prefix = format!("user.review.{id}.");
        // Re-reviews already sent stay in the graph, so one interrupted is sent again.
        for (task, sent) in record
            .requests
            .range(prefix.clone()..)
            .take_while(|(k, _)| k.starts_with(&prefix))
        {
            graph.add(record, task.clone(), Stage::Rereview, sent.clone(), &[]);
        }
        let first_review = format!("r{}.review.{id}", hypothesis.round);
        let reviewed = graph.node(&first_review).is_some_and(|node| node.state.is_terminal());
        let covered = record
            .requests
            .values()
            .filter_map(|r| match &r.payload {
                Payload::ReviewRequest {
                    hypothesis,
                    user_critiques,
                    ..
                } if &hypothesis.id == id => Some(user_critiques.len()),
                _ => None,
            })
            .max()
            .unwrap_or(0);
        if reviewed && critiques.len() > covered {
            let task = format!("{prefix}{}", critiques.len());
            let payload = review_request(record, settings, hypothesis, &task);
            let message = Envelope::new(run, &task, AgentName::Planner, AgentName::Reviewer, payload);
            graph.add(record, task, Stage::Rereview, message, &[&first_review]);
        }
    }
}

/// Every pair judged in both orders, so a judge's preference for the first
/// (or second) position cancels out.
fn add_tournament(
    graph: &mut TaskGraph,
    record: &RunRecord,
    settings: &RunSettings,
    round: u32,
    contenders: &[&Hypothesis],
    request: &impl Fn(&str, AgentName, Payload) -> Envelope,
) {
    let mut contenders: Vec<&Hypothesis> = contenders.to_vec();
    contenders.sort_by(|a, b| natural_key(&a.id).cmp(&natural_key(&b.id)));
    contenders.dedup_by(|a, b| a.id == b.id);
    for (i, a) in contenders.iter().enumerate() {
        for b in &contenders[i + 1..] {
            for (order, first, second) in [("ab", a, b), ("ba", b, a)] {
                let task = format!("r{round}.judge.{}.{}.{order}", a.id, b.id);
                let payload = Payload::JudgeRequest {
                    question: settings.question.clone(),
                    round,
                    first: (*first).clone(),
                    second: (*second).clone(),
                    seed: task_seed(settings.seed, &task),
                };
                let needs = [format!("r{round}.review.{}", a.id), format!("r{round}.review.{}", b.id)];
                let needs: Vec<&str> = needs.iter().map(String::as_str).collect();
                let message = request(&task, AgentName::Reviewer, payload);
                graph.add(record, task, Stage::Tournament(round), message, &needs);
            }
        }
    }
}

/// The best `count` hypotheses after `round`'s tournament, by rating (ties by id).
fn leaders_after(record: &RunRecord, round: u32, count: usize) -> Vec<&Hypothesis> {
    let ratings = record.ratings_through(round);
    let mut ranked: Vec<&Hypothesis> = record.hypotheses.values().filter(|h| h.round <= round).collect();
    ranked.sort_by(|a, b| {
        let (ra, rb) = (
            ratings.get(&a.id).copied().unwrap_or(0.0),
            ratings.get(&b.id).copied().unwrap_or(0.0),
        );
        rb.total_cmp(&ra).then(natural_key(&a.id).cmp(&natural_key(&b.id)))
    });
    ranked.truncate(count);
    ranked
}

/// What the reviser is told: the researcher's critiques first, then the review's, then why it
/// lost matches.
fn critiques_of(record: &RunRecord, id: &str, round: u32) -> Vec<String> {
    let mut critiques: Vec<String> = record
        .steering
        .critiques_of(id)
        .iter()
        .map(|c| format!("From the researcher: {c}"))
        .collect();
    if let Some(review) = record.reviews.get(id) {
        critiques.push(review.critique.clone());
    }
    let losses = record
        .matches
        .iter()
        .filter(|m| m.round == round && m.loser_id() == id)
        .map(|m| m.reason.clone());
    critiques.extend(losses.take(3));
    critiques
}

fn producing_task(record: &RunRecord, hypothesis: &str) -> String {
    record
        .replies
        .iter()
        .find(
            |(_, reply)| matches!(&reply.payload, Payload::HypothesisReady { hypothesis: h, .. } if h.id == hypothesis),
        )
        .map(|(request, _)| request.clone())
        .unwrap_or_default()
}

/// `h2` before `h10`.
fn natural_key(id: &str) -> (usize, &str) {
    (id.len(), id)
}

/// One pair of passages from different papers per hypothesis to compose.
/// Pairs are taken best-first (by the sum of their ranks in the evidence),
/// preferring passages used least so far, so the hypotheses spread over the
/// evidence. With a single paper, each hypothesis gets one passage.
pub fn inspiration_pairs(evidence: &[EvidencePassage], count: usize) -> Vec<Vec<PassageId>> {
    let mut candidates: Vec<(usize, usize)> = Vec::new();
    for i in 0..evidence.len() {
        for j in i + 1..evidence.len() {
            if evidence[i].paper_id != evidence[j].paper_id {
                candidates.push((i, j));
            }
        }
    }
    if candidates.is_empty() {
        return (0..count)
            .map(|slot| vec![evidence[slot % evidence.len().max(1)].passage_id.clone()])
            .take(if evidence.is_empty() { 0 } else { count })
            .collect();
    }
    let mut uses: BTreeMap<usize, usize> = BTreeMap::new();
    let mut taken = vec![false; candidates.len()];
    let mut pairs = Vec::with_capacity(count);
    for _ in 0..count {
        if taken.iter().all(|&t| t) {
            taken.iter_mut().for_each(|t| *t = false);
        }
        let best = candidates
            .iter()
            .enumerate()
            .filter(|(index, _)| !taken[*index])
            .min_by_key(|&(_, &(i, j))| (uses.get(&i).unwrap_or(&0) + uses.get(&j).unwrap_or(&0), i + j, i))
            .map(|(index, &pair)| (index, pair));
        let Some((index, (i, j))) = best else { break };
        taken[index] = true;
        *uses.entry(i).or_default() += 1;
        *uses.entry(j).or_default() += 1;
        pairs.push(vec![evidence[i].passage_id.clone(), evidence[j].passage_id.clone()]);
    }
    pairs
}

#[cfg(test)]
mod tests {
    use super::*;
    use hypatia_core::PaperId;

    fn passage(paper: &str, ordinal: u32) -> EvidencePassage {
        let paper_id = PaperId::derive(paper);
        EvidencePassage {
            passage_id: paper_id.passage(ordinal),
            paper_id,
            title: paper.into(),
            year: None,
            text: String::new(),
            score: 0.0,
            location: None,
        }
    }

    #[test]
    fn inspiration_pairs_cross_papers_and_spread_out() {
        let evidence = vec![passage("a", 0), passage("a", 1), passage("b", 0), passage("c", 0)];
        let pairs = inspiration_pairs(&evidence, 3);
        assert_eq!(pairs.len(), 3);
        for pair in &pairs {
            assert_eq!(pair.len(), 2);
            assert_ne!(pair[0].paper_id(), pair[1].paper_id(), "{pair:?}");
        }
        // The first two pairs share no passage: the least-used passages come first.
        assert!(pairs[0].iter().all(|p| !pairs[1].contains(p)), "{pairs:?}");
        let single = inspiration_pairs(&[passage("a", 0), passage("a", 1)], 3);
        assert_eq!(single.len(), 3);
        assert!(single.iter().all(|p| p.len() == 1));
        assert!(inspiration_pairs(&[], 3).is_empty());
    }

    #[test]
    fn ids_sort_naturally() {
        let mut ids = vec!["h10", "h2", "h1"];
        ids.sort_by_key(|id| natural_key(id));
        assert_eq!(ids, ["h1", "h2", "h10"]);
    }
}

#[cfg(test)]
mod scheduling {
    use hypatia_core::PaperId;
    use hypatia_research::{Budget, CallUsage, Hypothesis, Plan, Side};

    use super::*;

    fn settings() -> RunSettings {
        RunSettings {
            question: "q".into(),
            hypotheses: 3,
            rounds: 2,
            leaders: 1,
            seed: 1,
            evidence_limit: 4,
            budget: Budget::default(),
            model: "m".into(),
            model_file: None,
            provenance: None,
            synthesis: false,
        }
    }

    /// Answers every ready task the way a well-behaved agent would.
    fn answer(record: &mut RunRecord, node: &TaskNode) {
        record.apply(&node.request);
        let usage = CallUsage::default();
        let payload = match &node.request.payload {
            Payload::PlanRequest { .. } => Payload::PlanReady {
                plan: Plan {
                    sub_questions: vec![],
                    queries: vec!["q".into()],
                    fallback: None,
                },
                usage,
            },
            Payload::RetrieveRequest { .. } => Payload::EvidenceReady {
                evidence: ["a", "b", "c"]
                    .iter()
                    .map(|paper| {
                        let paper_id = PaperId::derive(paper);
                        EvidencePassage {
                            passage_id: paper_id.passage(0),
                            paper_id,
                            title: paper.to_string(),
                            year: None,
                            text: "text".into(),
                            score: 1.0,
                            location: None,
                        }
                    })
                    .collect(),
                skipped: vec![],
            },
            Payload::GenerateRequest {
                hypothesis_id,
                inspiration,
                ..
            } => Payload::HypothesisReady {
                hypothesis: hypothesis(hypothesis_id, 1, None, inspiration),
                usage,
            },
            Payload::ReviseRequest {
                hypothesis_id,
                round,
                parent,
                ..
            } => Payload::HypothesisReady {
                hypothesis: hypothesis(hypothesis_id, *round, Some(parent.id.clone()), &parent.citations),
                usage,
            },
            Payload::ReviewRequest { .. } => Payload::TaskFailed {
                failure: hypatia_research::AgentFailure::task("skipped in this test"),
            },
            Payload::JudgeRequest { first, second, .. } => Payload::JudgeReady {
                // The lower id always wins: h1 leads after round 1.
                winner: if natural_key(&first.id) < natural_key(&second.id) {
                    Side::First
                } else {
                    Side::Second
                },
                reason: "r".into(),
                usage,
            },
            other => panic!("unexpected request {}", other.kind()),
        };
        record.apply(&node.request.reply(payload));
    }

    fn hypothesis(id: &str, round: u32, parent: Option<String>, citations: &[PassageId]) -> Hypothesis {
        Hypothesis {
            id: id.into(),
            round,
            parent,
            statement: "s".into(),
            rationale: "r".into(),
            prediction: "p".into(),
            experiment: "e".into(),
            citations: citations.to_vec(),
            gap: None,
        }
    }

    #[test]
    fn each_sub_question_gets_a_synthesis_from_the_evidence_that_bears_on_it() {
        let settings = RunSettings {
            synthesis: true,
            ..settings()
        };
        let mut record = RunRecord::default();
        let graph = build(&record, &settings);
        let plan = graph.node("plan").expect("plan").request.clone();
        record.apply(&plan);
        let sub = |q: &str| hypatia_research::SubQuestion {
            question: q.into(),
            queries: vec![],
        };
        record.apply(&plan.reply(Payload::PlanReady {
            plan: Plan {
                sub_questions: vec![
                    sub("Does aspirin prevent colorectal cancer?"),
                    sub("Which quantum algorithms factor integers?"),
                    sub("Is aspirin safe for the elderly?"),
                ],
                queries: vec!["q".into()],
                fallback: None,
            },
            usage: CallUsage::default(),
        }));
        let retrieve = build(&record, &settings)
            .node("retrieve")
            .expect("retrieve")
            .request
            .clone();
        record.apply(&retrieve);
        let evidence: Vec<EvidencePassage> = [
            ("a", "Aspirin lowered colorectal cancer incidence in the trial."),
            ("b", "Bleeding risk from aspirin rises in the elderly."),
            ("c", "Protein folding is predicted by deep networks."),
        ]
        .iter()
        .map(|(paper, text)| {
            let paper_id = PaperId::derive(paper);
            EvidencePassage {
                passage_id: paper_id.passage(0),
                paper_id,
                title: String::new(),
                year: None,
                text: (*text).into(),
                score: 1.0,
                location: None,
            }
        })
        .collect();
        record.apply(&retrieve.reply(Payload::EvidenceReady {
            evidence: evidence.clone(),
            skipped: vec![],
        }));
        let graph = build(&record, &settings);
        let ready: Vec<&str> = graph.ready().iter().map(|n| n.id.as_str()).collect();
        // Sections go out first (hypotheses address their gaps); the quantum sub-question has no evidence.
        assert_eq!(ready, ["relate.1", "relate.3", "synth.1", "synth.3"]);
        // Pairs from different papers that share words are compared; one paper's passages never are.
        match &graph.node("relate.1").expect("relate.1").request.payload {
            Payload::RelateRequest { pairs, .. } => {
                assert_eq!(pairs.len(), 1);
                assert_ne!(pairs[0].0.paper_id, pairs[0].1.paper_id);
            }
            other => panic!("{}", other.kind()),
        }
        let given = |task: &str| match &graph.node(task).expect("task").request.payload {
            Payload::SynthesisRequest { evidence, index, .. } => {
                (*index, evidence.iter().map(|p| p.paper_id.clone()).collect::<Vec<_>>())
            }
            other => panic!("{}", other.kind()),
        };
        assert_eq!(given("synth.1"), (0, vec![PaperId::derive("a"), PaperId::derive("b")]));
        assert_eq!(given("synth.3"), (2, vec![PaperId::derive("b"), PaperId::derive("a")]));
        // A run started before syntheses existed gets none.
        let old = build(
            &record,
            &RunSettings {
                synthesis: false,
                ..settings.clone()
            },
        );
        assert!(old.ready().iter().all(|n| n.stage != Stage::Synthesis));
        assert!(old.ready().iter().any(|n| n.id == "r1.gen.01"));

        // Once every section is written or has failed, the compositions go out with the gaps found;
        // the pair judgements need not be done.
        let synth = |task: &str| graph.node(task).expect("task").request.clone();
        let section = hypatia_research::SynthesisSection {
            index: 0,
            sub_question: "aspirin".into(),
            statements: vec![],
            agreement: "a".into(),
            disagreement: "d".into(),
            gaps: vec!["No trial in the young.".into(), "No dose comparison.".into()],
        };
        record.apply(&synth("synth.1"));
        record.apply(&synth("synth.3"));
        record.apply(&synth("synth.1").reply(Payload::SynthesisReady {
            section,
            usage: CallUsage::default(),
        }));
        assert!(
            build(&record, &settings)
                .ready()
                .iter()
                .all(|n| n.stage != Stage::Generate)
        );
        record.apply(&synth("synth.3").reply(Payload::TaskFailed {
            failure: hypatia_research::AgentFailure::task("no prose"),
        }));
        let graph = build(&record, &settings);
        let ready: Vec<&str> = graph.ready().iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ready, ["relate.1", "relate.3", "r1.gen.01", "r1.gen.02", "r1.gen.03"]);
        match &graph.node("r1.gen.02").expect("gen").request.payload {
            Payload::GenerateRequest { gaps, .. } => {
                let ids: Vec<&str> = gaps.iter().map(|g| g.id.as_str()).collect();
                assert_eq!(ids, ["1.1", "1.2"]);
                assert_eq!(gaps[1].text, "No dose comparison.");
            }
            other => panic!("{}", other.kind()),
        }
    }

    #[test]
    fn stages_become_ready_in_order_and_independent_tasks_together() {
        let settings = settings();
        let mut record = RunRecord::default();
        let mut waves: Vec<Vec<String>> = Vec::new();
        loop {
            let graph = build(&record, &settings);
            let ready: Vec<TaskNode> = graph.ready().into_iter().cloned().collect();
            if ready.is_empty() {
                assert!(graph.all_terminal(), "nothing ready but tasks still open");
                break;
            }
            waves.push(ready.iter().map(|n| n.id.clone()).collect());
            for node in &ready {
                answer(&mut record, node);
            }
        }
        let expected: Vec<Vec<&str>> = vec![
            vec!["plan"],
            vec!["retrieve"],
            vec!["r1.gen.01", "r1.gen.02", "r1.gen.03"],
            vec!["r1.review.h1", "r1.review.h2", "r1.review.h3"],
            vec![
                "r1.judge.h1.h2.ab",
                "r1.judge.h1.h2.ba",
                "r1.judge.h1.h3.ab",
                "r1.judge.h1.h3.ba",
                "r1.judge.h2.h3.ab",
                "r1.judge.h2.h3.ba",
            ],
            // The leader after round 1 is revised as h4, reviewed, then meets its parent.
            vec!["r2.revise.h1"],
            vec!["r2.review.h4"],
            vec!["r2.judge.h1.h4.ab", "r2.judge.h1.h4.ba"],
        ];
        assert_eq!(waves, expected);
        assert_eq!(record.hypotheses["h4"].parent.as_deref(), Some("h1"));
        // Every request was built with its own seed.
        let seeds: std::collections::BTreeSet<u64> = record
            .requests
            .values()
            .filter_map(|r| match &r.payload {
                Payload::GenerateRequest { seed, .. } | Payload::JudgeRequest { seed, .. } => Some(*seed),
                _ => None,
            })
            .collect();
        assert_eq!(seeds.len(), 3 + 6 + 2);
    }

    #[test]
    fn a_resumed_record_sends_again_only_what_was_unanswered() {
        let settings = settings();
        let mut record = RunRecord::default();
        for _ in 0..3 {
            let ready: Vec<TaskNode> = build(&record, &settings).ready().into_iter().cloned().collect();
            for node in &ready {
                answer(&mut record, node);
            }
        }
        // Reviews sent, one answered, then the process died.
        let reviews: Vec<TaskNode> = build(&record, &settings).ready().into_iter().cloned().collect();
        for node in &reviews {
            record.apply(&node.request);
        }
        answer(&mut record, &reviews[0]);
        let graph = build(&record, &settings);
        assert!(graph.ready().is_empty(), "nothing new before the reviews are done");
        let pending: Vec<&str> = record.pending_requests().iter().map(|e| e.id.as_str()).collect();
        assert_eq!(pending, ["r1.review.h2", "r1.review.h3"]);
        assert_eq!(graph.node("r1.review.h2").map(|n| n.state), Some(TaskState::Sent));
        assert_eq!(graph.node("r1.review.h1").map(|n| n.state), Some(TaskState::Failed));
        assert_eq!(graph.dependents("r1.gen.02").len(), 1);
    }
}

#[cfg(test)]
mod steering {
    use hypatia_core::PaperId;
    use hypatia_research::{Budget, CallUsage, Plan, Scores};

    use super::*;

    fn settings(rounds: u32) -> RunSettings {
        RunSettings {
            question: "q".into(),
            hypotheses: 2,
            rounds,
            leaders: 1,
            seed: 7,
            evidence_limit: 4,
            budget: Budget::default(),
            model: "m".into(),
            model_file: None,
            provenance: None,
            synthesis: false,
        }
    }

    fn passage(paper: &str) -> EvidencePassage {
        let paper_id = PaperId::derive(paper);
        EvidencePassage {
            passage_id: paper_id.passage(0),
            paper_id,
            title: paper.into(),
            year: None,
            text: format!("text of {paper}"),
            score: 1.0,
            location: None,
        }
    }

    fn user(record: &mut RunRecord, id: &str, payload: Payload) {
        record.apply(&Envelope::new("run", id, AgentName::User, AgentName::Planner, payload));
    }

    /// Answers what is ready, as agents that cite the first passage they were given would.
    fn answer_ready(record: &mut RunRecord, settings: &RunSettings) -> Vec<TaskNode> {
        let ready: Vec<TaskNode> = build(record, settings).ready().into_iter().cloned().collect();
        for node in &ready {
            record.apply(&node.request);
            let usage = CallUsage::default();
            let hypothesis = |id: &str, round, parent: Option<&Hypothesis>, evidence: &[EvidencePassage]| Hypothesis {
                id: id.into(),
                round,
                parent: parent.map(|p| p.id.clone()),
                statement: "s".into(),
                rationale: "r".into(),
                prediction: "p".into(),
                experiment: "e".into(),
                citations: vec![evidence[0].passage_id.clone()],
                gap: None,
            };
            let payload = match &node.request.payload {
                Payload::PlanRequest { .. } => Payload::PlanReady {
                    plan: Plan {
                        sub_questions: vec![],
                        queries: vec!["q".into()],
                        fallback: None,
                    },
                    usage,
                },
                Payload::RetrieveRequest { .. } => Payload::EvidenceReady {
                    evidence: vec![passage("a"), passage("b"), passage("c")],
                    skipped: vec![],
                },
                Payload::GenerateRequest {
                    hypothesis_id,
                    evidence,
                    ..
                } => Payload::HypothesisReady {
                    hypothesis: hypothesis(hypothesis_id, 1, None, evidence),
                    usage,
                },
                Payload::ReviseRequest {
                    hypothesis_id,
                    round,
                    parent,
                    evidence,
                    ..
                } => Payload::HypothesisReady {
                    hypothesis: hypothesis(hypothesis_id, *round, Some(parent), evidence),
                    usage,
                },
                Payload::ReviewRequest { hypothesis, .. } => Payload::ReviewReady {
                    review: hypatia_research::Review {
                        hypothesis_id: hypothesis.id.clone(),
                        scores: Scores {
                            grounding: 3,
                            novelty: 3,
                            testability: 3,
                            significance: 3,
                        },
                        critique: "model critique".into(),
                        citations: vec![],
                        novelty: hypatia_research::NoveltyFinding {
                            closest: vec![],
                            restates: None,
                        },
                    },
                    usage,
                },
                Payload::JudgeRequest { first, second, .. } => Payload::JudgeReady {
                    winner: if natural_key(&first.id) < natural_key(&second.id) {
                        hypatia_research::Side::First
                    } else {
                        hypatia_research::Side::Second
                    },
                    reason: "the lower id".into(),
                    usage,
                },
                other => panic!("unexpected request {}", other.kind()),
            };
            record.apply(&node.request.reply(payload));
        }
        ready
    }

    fn run_to_end(record: &mut RunRecord, settings: &RunSettings) -> Vec<TaskNode> {
        let mut sent = Vec::new();
        loop {
            let wave = answer_ready(record, settings);
            if wave.is_empty() {
                return sent;
            }
            sent.extend(wave);
        }
    }

    fn evidence_of(node: &TaskNode) -> Vec<PaperId> {
        match &node.request.payload {
            Payload::GenerateRequest { evidence, .. } | Payload::ReviseRequest { evidence, .. } => {
                evidence.iter().map(|p| p.paper_id.clone()).collect()
            }
            other => panic!("no evidence in {}", other.kind()),
        }
    }

    #[test]
    fn pinned_papers_come_first_and_excluded_papers_not_at_all() {
        let settings = settings(1);
        let mut record = RunRecord::from_envelopes("run", []);
        user(
            &mut record,
            "run",
            Payload::RunStarted {
                settings: settings.clone(),
            },
        );
        answer_ready(&mut record, &settings); // plan
        answer_ready(&mut record, &settings); // retrieve
        let pinned = passage("pinned");
        user(
            &mut record,
            "steer.1",
            Payload::PaperPinned {
                paper_id: pinned.paper_id.clone(),
                title: "pinned".into(),
                passages: vec![pinned.clone()],
            },
        );
        user(
            &mut record,
            "steer.2",
            Payload::PaperExcluded {
                paper_id: PaperId::derive("b"),
                title: "b".into(),
            },
        );
        let generated = answer_ready(&mut record, &settings);
        assert_eq!(generated.len(), 2);
        for node in &generated {
            assert_eq!(
                evidence_of(node),
                [pinned.paper_id.clone(), PaperId::derive("a"), PaperId::derive("c")]
            );
        }
        // The first hypothesis is inspired by the pinned paper and cites it; its review is given
        // the pinned passage, and the export gate knows it was evidence.
        let reviews = answer_ready(&mut record, &settings);
        let Payload::ReviewRequest { evidence, .. } = &reviews[0].request.payload else {
            panic!("not a review")
        };
        assert_eq!(evidence, std::slice::from_ref(&pinned));
        assert!(record.evidence_passage(&pinned.passage_id).is_some());
        // Unpinned again, it is no longer given, yet still counts as evidence once given.
        user(
            &mut record,
            "steer.3",
            Payload::PaperReleased {
                paper_id: pinned.paper_id.clone(),
            },
        );
        let working: Vec<PaperId> = record
            .working_evidence()
            .expect("retrieved")
            .into_iter()
            .map(|p| p.paper_id)
            .collect();
        assert_eq!(working, [PaperId::derive("a"), PaperId::derive("c")]);
        assert!(record.evidence_passage(&pinned.passage_id).is_some());
    }

    #[test]
    fn a_critique_reaches_the_review_or_gets_a_new_one_and_reaches_the_revision() {
        let settings = settings(2);
        let mut record = RunRecord::from_envelopes("run", []);
        user(
            &mut record,
            "run",
            Payload::RunStarted {
                settings: settings.clone(),
            },
        );
        for _ in 0..3 {
            answer_ready(&mut record, &settings); // plan, retrieve, compose
        }
        // Before its review is sent: the review carries it.
        user(
            &mut record,
            "steer.1",
            Payload::CritiqueAdded {
                hypothesis_id: "h2".into(),
                critique: "h2 ignores cost".into(),
            },
        );
        let reviews = answer_ready(&mut record, &settings);
        let critiques_in = |node: &TaskNode| match &node.request.payload {
            Payload::ReviewRequest { user_critiques, .. } => user_critiques.clone(),
            _ => Vec::new(),
        };
        let by_id: BTreeMap<&str, Vec<String>> = reviews.iter().map(|n| (n.id.as_str(), critiques_in(n))).collect();
        assert_eq!(by_id["r1.review.h2"], ["h2 ignores cost"]);
        assert!(by_id["r1.review.h1"].is_empty());
        // After h1's review: h1 is reviewed again, and nothing else waits for that.
        user(
            &mut record,
            "steer.2",
            Payload::CritiqueAdded {
                hypothesis_id: "h1".into(),
                critique: "h1 cites the wrong paper".into(),
            },
        );
        let next = answer_ready(&mut record, &settings);
        let ids: Vec<&str> = next.iter().map(|n| n.id.as_str()).collect();
        assert!(ids.contains(&"user.review.h1.1"), "{ids:?}");
        assert!(ids.iter().any(|id| id.starts_with("r1.judge.")), "{ids:?}");
        let rereview = next.iter().find(|n| n.id == "user.review.h1.1").expect("re-review");
        assert_eq!(critiques_in(rereview), ["h1 cites the wrong paper"]);
        let rest = run_to_end(&mut record, &settings);
        assert!(
            !rest.iter().any(|n| n.id.starts_with("user.review")),
            "reviewed once per critique"
        );
        // h1 leads (the lower id always wins); its revision hears the researcher first.
        let revise = rest.iter().find(|n| n.id == "r2.revise.h1").expect("revision");
        let Payload::ReviseRequest { critiques, .. } = &revise.request.payload else {
            panic!("not a revision")
        };
        assert_eq!(critiques[0], "From the researcher: h1 cites the wrong paper");
    }

    #[test]
    fn another_round_is_scheduled_after_the_last_and_reopens_a_completed_run() {
        let settings = settings(1);
        let mut record = RunRecord::from_envelopes("run", []);
        user(
            &mut record,
            "run",
            Payload::RunStarted {
                settings: settings.clone(),
            },
        );
        run_to_end(&mut record, &settings);
        user(
            &mut record,
            "finished",
            Payload::RunFinished {
                status: hypatia_research::RunStatus::Completed,
                detail: "done".into(),
            },
        );
        assert!(record.is_finished());
        assert_eq!(record.finish_id(), "finished.2");
        user(
            &mut record,
            "steer.1",
            Payload::RoundRequested { reason: "more".into() },
        );
        assert!(!record.is_finished(), "asking for a round opens the run again");
        assert_eq!(record.rounds(), 2);
        let more = run_to_end(&mut record, &settings);
        let ids: Vec<&str> = more.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(
            ids,
            ["r2.revise.h1", "r2.review.h3", "r2.judge.h1.h3.ab", "r2.judge.h1.h3.ba"]
        );
    }
}
