//! The runs view: every run in the project, and the one followed live from its journal (started here
//! or by `hypatia review` in another process): its tasks and their state, the agents' messages, model
//! calls and tokens per agent, time worked and budget left.

use std::collections::BTreeMap;

use hypatia_research::{AgentName, Envelope, Payload};
use hypatia_runs::RunRecord;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{List, ListItem, ListState, Paragraph, Wrap};

use crate::app::Command;
use crate::keys::Key;
use crate::library::pane;
use crate::theme::Theme;

/// A run as listed, with the status a person should see (`interrupted` for a dead `running`).
#[derive(Debug, Clone, PartialEq)]
pub struct RunSummary {
    pub id: String,
    pub question: String,
    pub status: String,
    pub messages: i64,
}

#[derive(Debug)]
pub struct Followed {
    pub run_id: String,
    pub envelopes: Vec<Envelope>,
    pub record: RunRecord,
    pub last_seq: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Runs,
    Tasks,
    Messages,
}

#[derive(Debug)]
pub struct RunsState {
    pub runs: Vec<RunSummary>,
    pub selected: usize,
    pub followed: Option<Followed>,
    /// Only this agent's messages, when set.
    pub filter: Option<AgentName>,
    pub focus: Pane,
    /// Lines up from the newest task (the newest are shown unless the user scrolls back).
    pub task_scroll: usize,
    /// Lines up from the newest message.
    pub message_scroll: usize,
}

impl Default for RunsState {
    fn default() -> Self {
        RunsState {
            runs: Vec::new(),
            selected: 0,
            followed: None,
            filter: None,
            focus: Pane::Runs,
            task_scroll: 0,
            message_scroll: 0,
        }
    }
}

impl RunsState {
    pub fn listed(&mut self, runs: Vec<RunSummary>) {
        let keep = self.runs.get(self.selected).map(|r| r.id.clone());
        self.runs = runs;
        self.selected = keep
            .and_then(|id| self.runs.iter().position(|r| r.id == id))
            .unwrap_or(0);
    }

    /// New journal entries of the followed run; true when they change what the hypotheses view shows.
    pub fn appended(&mut self, run_id: &str, envelopes: Vec<Envelope>) -> bool {
        let Some(followed) = self.followed.as_mut().filter(|f| f.run_id == run_id) else {
            return false;
        };
        let mut changed = false;
        for envelope in envelopes {
            // A poll that overlapped the previous one may repeat messages already folded.
            if envelope.seq <= followed.last_seq {
                continue;
            }
            followed.last_seq = envelope.seq;
            changed |= matches!(
                envelope.payload,
                Payload::HypothesisReady { .. }
                    | Payload::ReviewReady { .. }
                    | Payload::RoundFinished { .. }
                    | Payload::RunFinished { .. }
            );
            followed.record.apply(&envelope);
            followed.envelopes.push(envelope);
        }
        changed
    }

    pub fn follow(&mut self, run_id: &str, envelopes: Vec<Envelope>) {
        self.followed = Some(Followed {
            run_id: run_id.to_owned(),
            envelopes: Vec::new(),
            record: RunRecord::from_envelopes(run_id, []),
            last_seq: 0,
        });
        self.task_scroll = 0;
        self.message_scroll = 0;
        self.appended(run_id, envelopes);
    }

    pub fn on_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Tab => {
                self.focus = match self.focus {
                    Pane::Runs => Pane::Tasks,
                    Pane::Tasks => Pane::Messages,
                    Pane::Messages => Pane::Runs,
                }
            }
            Key::BackTab => {
                self.focus = match self.focus {
                    Pane::Runs => Pane::Messages,
                    Pane::Tasks => Pane::Runs,
                    Pane::Messages => Pane::Tasks,
                }
            }
            Key::Char('r') => return vec![Command::ListRuns],
            Key::Char('f') => {
                self.filter = match self.filter {
                    None => Some(AgentName::Planner),
                    Some(AgentName::Planner) => Some(AgentName::Retriever),
                    Some(AgentName::Retriever) => Some(AgentName::Hypothesis),
                    Some(AgentName::Hypothesis) => Some(AgentName::Reviewer),
                    Some(_) => None,
                };
                self.message_scroll = 0;
            }
            Key::Char('e') => {
                if let Some(followed) = &self.followed {
                    return vec![Command::Export(followed.run_id.clone())];
                }
            }
            Key::Char('n') => return vec![Command::OpenForm],
            Key::Char('p') => {
                if let Some(followed) = &self.followed
                    && followed.record.status.is_none()
                {
                    return vec![Command::PauseOrResume(followed.run_id.clone())];
                }
            }
            Key::Char('x') => {
                if let Some(followed) = &self.followed
                    && followed.record.status.is_none()
                {
                    return vec![Command::Cancel(followed.run_id.clone())];
                }
            }
            Key::Enter if self.focus == Pane::Runs => {
                if let Some(run) = self.runs.get(self.selected) {
                    return vec![Command::Follow(run.id.clone())];
                }
            }
            Key::Down | Key::Char('j') => match self.focus {
                Pane::Runs => self.selected = (self.selected + 1).min(self.runs.len().saturating_sub(1)),
                Pane::Tasks => self.task_scroll = self.task_scroll.saturating_sub(1),
                Pane::Messages => self.message_scroll = self.message_scroll.saturating_sub(1),
            },
            Key::Up | Key::Char('k') => match self.focus {
                Pane::Runs => self.selected = self.selected.saturating_sub(1),
                Pane::Tasks => self.task_scroll = self.task_scroll.saturating_add(1),
                Pane::Messages => self.message_scroll = self.message_scroll.saturating_add(1),
            },
            _ => {}
        }
        Vec::new()
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let [left, right] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
        let [list_area, usage_area] = Layout::vertical([Constraint::Min(5), Constraint::Length(9)]).areas(left);
        let [tasks_area, messages_area] =
            Layout::vertical([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(right);

        let items: Vec<ListItem> = self
            .runs
            .iter()
            .map(|run| {
                let followed = self.followed.as_ref().is_some_and(|f| f.run_id == run.id);
                ListItem::new(vec![
                    Line::from(vec![
                        Span::raw(if followed { "● " } else { "  " }),
                        Span::styled(run.id.clone(), theme.title()),
                        Span::raw(" "),
                        Span::styled(run.status.clone(), status_style(&run.status, theme)),
                        Span::styled(format!(" {} msgs", run.messages), theme.muted()),
                    ]),
                    Line::from(format!("  {}", run.question)),
                ])
            })
            .collect();
        let empty = items.is_empty();
        let list = List::new(items)
            .block(pane(
                Line::from(" Runs (Enter: follow, r: reload) "),
                self.focus == Pane::Runs,
                theme,
            ))
            .highlight_style(theme.selected());
        let mut state = ListState::default().with_selected((!empty).then_some(self.selected));
        frame.render_stateful_widget(list, list_area, &mut state);
        if empty {
            let inner = list_area.inner(ratatui::layout::Margin::new(2, 1));
            frame.render_widget(
                Paragraph::new("No runs yet: press n to start one (or run `hypatia review \"QUESTION\"`).")
                    .style(theme.muted())
                    .wrap(Wrap { trim: false }),
                inner,
            );
        }

        let Some(followed) = &self.followed else {
            let hint = Paragraph::new("Select a run and press Enter to follow it.").style(theme.muted());
            frame.render_widget(
                hint.clone().block(pane(Line::from(" Tasks "), false, theme)),
                tasks_area,
            );
            frame.render_widget(
                Paragraph::new("").block(pane(Line::from(" Messages "), false, theme)),
                messages_area,
            );
            frame.render_widget(
                Paragraph::new("").block(pane(Line::from(" Usage "), false, theme)),
                usage_area,
            );
            return;
        };
        self.draw_usage(frame, usage_area, followed, theme);
        self.draw_tasks(frame, tasks_area, followed, theme);
        self.draw_messages(frame, messages_area, followed, theme);
    }

    fn draw_usage(&self, frame: &mut Frame, area: Rect, followed: &Followed, theme: Theme) {
        let mut per_agent: BTreeMap<AgentName, (u64, u64)> = BTreeMap::new();
        for envelope in &followed.envelopes {
            if let Some(usage) = envelope.payload.usage() {
                let entry = per_agent.entry(envelope.sender).or_default();
                entry.0 += 1;
                entry.1 += usage.tokens();
            }
        }
        let record = &followed.record;
        let mut lines: Vec<Line> = per_agent
            .iter()
            .map(|(agent, (calls, tokens))| {
                Line::from(format!("{:<11}{calls:>5} calls {tokens:>9} tokens", agent.as_str()))
            })
            .collect();
        lines.push(Line::from(format!(
            "{:<11}{:>5} calls {:>9} tokens",
            "all",
            record.usage.model_calls,
            record.usage.tokens()
        )));
        let elapsed = record.elapsed_ms() as f64 / 1000.0;
        lines.push(Line::from(format!("worked {elapsed:.0} s")));
        if let Some(budget) = record.settings.as_ref().map(|s| &s.budget) {
            let mut left = Vec::new();
            if let Some(calls) = budget.model_calls {
                left.push(format!("{} calls", calls.saturating_sub(record.usage.model_calls)));
            }
            if let Some(tokens) = budget.tokens {
                left.push(format!("{} tokens", tokens.saturating_sub(record.usage.tokens())));
            }
            if let Some(minutes) = budget.minutes {
                left.push(format!("{:.1} min", (minutes - elapsed / 60.0).max(0.0)));
            }
            let text = if left.is_empty() {
                "no budget".to_owned()
            } else {
                format!("left: {}", left.join(", "))
            };
            lines.push(Line::from(Span::styled(text, theme.muted())));
        }
        let title = match &record.status {
            Some((status, _)) => format!(" Usage · {} ", status.as_str()),
            None => " Usage · running ".to_owned(),
        };
        frame.render_widget(Paragraph::new(lines).block(pane(Line::from(title), false, theme)), area);
    }

    fn draw_tasks(&self, frame: &mut Frame, area: Rect, followed: &Followed, theme: Theme) {
        let record = &followed.record;
        let mut lines = Vec::new();
        if let Some(plan) = &record.plan {
            lines.push(Line::from(Span::styled("plan", theme.key())));
            for sub in &plan.sub_questions {
                lines.push(Line::from(format!("  ├ {}", sub.question)));
            }
        }
        let steering = &record.steering;
        if !steering.messages.is_empty() {
            lines.push(Line::from(Span::styled("steering", theme.key())));
            for pin in &steering.pinned {
                lines.push(Line::from(format!("  + pinned {}", pin.title)));
            }
            for title in steering.excluded.values() {
                lines.push(Line::from(format!("  − excluded {title}")));
            }
            for (hypothesis, critiques) in &steering.critiques {
                lines.push(Line::from(format!(
                    "  ✎ {} critique(s) of {hypothesis}",
                    critiques.len()
                )));
            }
            if steering.extra_rounds > 0 {
                lines.push(Line::from(format!("  ↻ {} round(s) asked for", steering.extra_rounds)));
            }
        }
        let mut current_group = String::new();
        // Requests in journal order, grouped by the round their id names (`r1.review.h3`).
        let mut requests: Vec<&Envelope> = record.requests.values().collect();
        requests.sort_by_key(|e| e.seq);
        for request in requests {
            let group = request.id.split('.').next().unwrap_or_default().to_owned();
            if group != current_group {
                let label = match group.strip_prefix('r').and_then(|n| n.parse::<u32>().ok()) {
                    Some(0) => "setup".to_owned(),
                    Some(n) => format!("round {n}"),
                    None if group == "user" => "reviewed again for your critiques".to_owned(),
                    None => group.clone(),
                };
                lines.push(Line::from(Span::styled(label, theme.key())));
                current_group = group;
            }
            let (mark, style) = match record.replies.get(&request.id).map(|r| &r.payload) {
                None => ("…", theme.muted()),
                Some(Payload::TaskFailed { .. }) => ("✗", theme.bad()),
                Some(_) => ("✓", theme.good()),
            };
            lines.push(Line::from(vec![
                Span::styled(format!("  {mark} "), style),
                Span::raw(request.id.clone()),
                Span::styled(format!("  {}", request.kind()), theme.muted()),
            ]));
        }
        let done = record.replies.len();
        let title = format!(" Tasks {done}/{} ", record.requests.len());
        // The newest tasks stay in view as the run goes on; scrolling up shows the earlier ones.
        let height = area.height.saturating_sub(2) as usize;
        let top = lines.len().saturating_sub(height + self.task_scroll);
        frame.render_widget(
            Paragraph::new(lines).scroll((top as u16, 0)).block(pane(
                Line::from(title),
                self.focus == Pane::Tasks,
                theme,
            )),
            area,
        );
    }

    fn draw_messages(&self, frame: &mut Frame, area: Rect, followed: &Followed, theme: Theme) {
        let shown: Vec<&Envelope> = followed
            .envelopes
            .iter()
            .filter(|e| {
                self.filter
                    .is_none_or(|agent| e.sender == agent || e.recipient == agent)
            })
            .collect();
        let height = area.height.saturating_sub(2) as usize;
        let end = shown.len().saturating_sub(self.message_scroll);
        let start = end.saturating_sub(height);
        let lines: Vec<Line> = shown[start..end]
            .iter()
            .map(|e| {
                Line::from(vec![
                    Span::styled(format!("{:>4} ", e.seq), theme.muted()),
                    Span::raw(format!("{} → {} ", e.sender, e.recipient)),
                    Span::styled(e.kind().to_owned(), theme.key()),
                    Span::styled(format!(" {}", e.id), theme.muted()),
                ])
            })
            .collect();
        let filter = self.filter.map_or("all agents".to_owned(), |a| a.as_str().to_owned());
        let title = format!(" Messages · {filter} (f: filter) · {} ", shown.len());
        frame.render_widget(
            Paragraph::new(lines).block(pane(Line::from(title), self.focus == Pane::Messages, theme)),
            area,
        );
    }
}

fn status_style(status: &str, theme: Theme) -> ratatui::style::Style {
    match status {
        "completed" => theme.good(),
        "failed" | "cancelled" | "interrupted" => theme.bad(),
        _ => theme.key(),
    }
}
