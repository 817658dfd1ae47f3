//! The hypotheses view: a run's leaderboard with each rating's course across rounds, and the selected
//! hypothesis in full, its reviews, novelty finding and cited passages (Enter opens the paper).

use hypatia_report::{ExportDocument, HypothesisEntry};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::Command;
use crate::keys::Key;
use crate::library::pane;
use crate::theme::Theme;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pane {
    Leaderboard,
    Detail,
}

#[derive(Debug)]
pub struct HypothesesState {
    pub document: Option<ExportDocument>,
    pub selected: usize,
    pub citation: usize,
    pub focus: Pane,
    pub scroll: u16,
}

impl Default for HypothesesState {
    fn default() -> Self {
        HypothesesState {
            document: None,
            selected: 0,
            citation: 0,
            focus: Pane::Leaderboard,
            scroll: 0,
        }
    }
}

impl HypothesesState {
    pub fn show(&mut self, document: ExportDocument) {
        let same_run = self.document.as_ref().is_some_and(|d| d.run_id == document.run_id);
        if !same_run {
            self.selected = 0;
            self.citation = 0;
            self.scroll = 0;
        }
        self.selected = self.selected.min(document.hypotheses.len().saturating_sub(1));
        self.document = Some(document);
    }

    fn current(&self) -> Option<&HypothesisEntry> {
        self.document.as_ref()?.hypotheses.get(self.selected)
    }

    pub fn selected_id(&self) -> Option<String> {
        self.current().map(|h| h.id.clone())
    }

    /// The citation marked in the detail pane (`c` moves the mark).
    pub fn selected_citation(&self) -> Option<&hypatia_report::CitationEntry> {
        self.current()?.citations.get(self.citation)
    }

    pub fn on_key(&mut self, key: Key) -> Vec<Command> {
        let count = self.document.as_ref().map_or(0, |d| d.hypotheses.len());
        match move_in_panes(key, count, self.selected, &mut self.focus, &mut self.scroll) {
            Moved::Pick(index) => self.pick(index),
            Moved::Handled => {}
            Moved::NotMine => return self.own_key(key),
        }
        Vec::new()
    }

    /// The keys of this view beyond moving in its panes.
    fn own_key(&mut self, key: Key) -> Vec<Command> {
        match key {
            Key::Char('c') => {
                let cited = self.current().map_or(0, |h| h.citations.len());
                if cited > 0 {
                    self.citation = (self.citation + 1) % cited;
                }
            }
            Key::Enter => {
                if let Some(citation) = self.current().and_then(|h| h.citations.get(self.citation)) {
                    return vec![Command::ShowPaper(citation.paper_id.clone())];
                }
            }
            Key::Char('e') => {
                if let Some(document) = &self.document {
                    return vec![Command::Export(document.run_id.clone())];
                }
            }
            _ => {}
        }
        Vec::new()
    }

    fn pick(&mut self, index: usize) {
        if index != self.selected {
            self.selected = index;
            self.citation = 0;
            self.scroll = 0;
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let Some(document) = &self.document else {
            let text = "No run open. Choose one in the runs view (2) and press Enter.";
            frame.render_widget(
                Paragraph::new(text)
                    .style(theme.muted())
                    .block(pane(Line::from(" Hypotheses "), false, theme)),
                area,
            );
            return;
        };
        let [board, detail] = Layout::horizontal([Constraint::Percentage(45), Constraint::Percentage(55)]).areas(area);
        let rows: Vec<Row> = document
            .hypotheses
            .iter()
            .map(|h| {
                let score = |f: fn(&hypatia_research::Scores) -> u8| {
                    h.review.as_ref().map_or("-".to_owned(), |r| f(&r.scores).to_string())
                };
                Row::new(vec![
                    Cell::from(h.rank.to_string()),
                    Cell::from(h.id.clone()),
                    Cell::from(format!("{:.0}", h.rating)),
                    Cell::from(sparkline(h)),
                    Cell::from(score(|s| s.grounding)),
                    Cell::from(score(|s| s.novelty)),
                    Cell::from(score(|s| s.testability)),
                    Cell::from(score(|s| s.significance)),
                ])
            })
            .collect();
        let title = match &document.notice {
            Some(_) => format!(" {} · {} ", document.run_id, document.status),
            None => format!(" {} ", document.run_id),
        };
        let table = Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Length(7),
                Constraint::Length(6),
                Constraint::Length(8),
                Constraint::Length(2),
                Constraint::Length(2),
                Constraint::Length(2),
                Constraint::Length(2),
            ],
        )
        .header(Row::new(vec!["#", "id", "rating", "rounds", "G", "N", "T", "S"]).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(pane(Line::from(title), self.focus == Pane::Leaderboard, theme));
        let mut state = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, board, &mut state);

        let text = self
            .current()
            .map_or_else(Text::default, |h| detail_text(h, self.citation, theme));
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(pane(
                    Line::from(" Hypothesis (Tab, c: next citation, Enter: open paper) "),
                    self.focus == Pane::Detail,
                    theme,
                )),
            detail,
        );
    }
}

/// What a key did in a list-and-detail view.
pub(crate) enum Moved {
    /// The list's selection is to move here.
    Pick(usize),
    /// Focus or scrolling changed.
    Handled,
    /// Not a key for moving: the view's own.
    NotMine,
}

/// Tab switches pane; in the list, arrows, `j`/`k`, `g`/`G` move the selection among `count` rows;
/// in the detail, they scroll it, as PgUp/PgDn do anywhere. Shared by every list-and-detail view.
pub(crate) fn move_in_panes(key: Key, count: usize, selected: usize, focus: &mut Pane, scroll: &mut u16) -> Moved {
    let in_list = *focus == Pane::Leaderboard;
    match key {
        Key::Tab | Key::BackTab => {
            *focus = match focus {
                Pane::Leaderboard => Pane::Detail,
                Pane::Detail => Pane::Leaderboard,
            };
        }
        Key::Down | Key::Char('j') if in_list && count > 0 => return Moved::Pick((selected + 1).min(count - 1)),
        Key::Up | Key::Char('k') if in_list => return Moved::Pick(selected.saturating_sub(1)),
        Key::Home | Key::Char('g') if in_list => return Moved::Pick(0),
        Key::End | Key::Char('G') if in_list => return Moved::Pick(count.saturating_sub(1)),
        Key::Down | Key::Char('j') => *scroll = scroll.saturating_add(1),
        Key::Up | Key::Char('k') => *scroll = scroll.saturating_sub(1),
        Key::PageDown => *scroll = scroll.saturating_add(10),
        Key::PageUp => *scroll = scroll.saturating_sub(10),
        _ => return Moved::NotMine,
    }
    Moved::Handled
}

/// The rating after each round as block characters, low to high.
pub fn sparkline(h: &HypothesisEntry) -> String {
    const BLOCKS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];
    let mut values = vec![hypatia_runs::elo::INITIAL_RATING];
    values.extend(h.rating_history.iter().map(|p| p.rating));
    let (low, high) = values.iter().fold((f64::INFINITY, f64::NEG_INFINITY), |(lo, hi), v| {
        (lo.min(*v), hi.max(*v))
    });
    values
        .iter()
        .map(|v| {
            if high - low < 1e-9 {
                BLOCKS[3]
            } else {
                BLOCKS[(((v - low) / (high - low)) * 7.0).round() as usize]
            }
        })
        .collect()
}

/// " · Results, p. 4" for a passage of a paper's full text; nothing for an abstract sentence.
fn place_suffix(place: &hypatia_report::Place) -> String {
    match (&place.section, place.pages()) {
        (Some(section), Some(pages)) => format!(" · {section}, {pages}"),
        (None, Some(pages)) => format!(" · {pages}"),
        _ => String::new(),
    }
}

fn detail_text(h: &HypothesisEntry, citation: usize, theme: Theme) -> Text<'static> {
    let mut lines = vec![
        Line::from(Span::styled(h.statement.clone(), theme.title())),
        Line::from(Span::styled(
            format!(
                "rank {} · rating {:.0} · round {}{} · won {}, lost {}",
                h.rank,
                h.rating,
                h.round,
                h.parent.as_ref().map_or(String::new(), |p| format!(" · revises {p}")),
                h.matches_won,
                h.matches_lost
            ),
            theme.muted(),
        )),
        Line::from(""),
    ];
    let mut section = |name: &str, body: String| {
        lines.push(Line::from(Span::styled(name.to_owned(), theme.key())));
        lines.extend(body.lines().map(|line| Line::from(line.to_owned())));
        lines.push(Line::from(""));
    };
    section("Rationale", h.rationale.clone());
    section("Prediction", h.prediction.clone());
    section("Experiment", h.experiment.clone());
    match &h.review {
        None => section("Review", "not reviewed yet".to_owned()),
        Some(review) => {
            let s = review.scores;
            section(
                "Review",
                format!(
                    "grounding {} · novelty {} · testability {} · significance {}\n{}",
                    s.grounding, s.novelty, s.testability, s.significance, review.critique
                ),
            );
            let novelty = match &review.restates {
                Some(paper) => format!(
                    "nearly restates \"{}\" (similarity {:.2})",
                    paper.title, paper.similarity
                ),
                None => "no paper in the project restates it".to_owned(),
            };
            let closest: Vec<String> = review
                .closest_papers
                .iter()
                .map(|p| format!("  {:.2}  {}", p.similarity, p.title))
                .collect();
            section("Novelty", format!("{novelty}\n{}", closest.join("\n")));
        }
    }
    if !h.researcher_critiques.is_empty() {
        lines.push(Line::from(Span::styled("Your critiques".to_owned(), theme.key())));
        for critique in &h.researcher_critiques {
            lines.push(Line::from(format!("• {critique}")));
        }
        lines.push(Line::from(""));
    }
    if let Some(gap) = &h.gap {
        lines.push(Line::from(Span::styled(
            format!("Addresses gap {}", gap.id),
            theme.key(),
        )));
        lines.push(Line::from(format!("{} ({})", gap.text, gap.sub_question)));
        lines.push(Line::from(""));
    }
    if !h.contested.is_empty() {
        let ids: Vec<&str> = h.contested.iter().map(|id| id.as_str()).collect();
        lines.push(Line::from(Span::styled(
            format!("Contested: another paper's passage contradicts {}", ids.join(", ")),
            theme.bad(),
        )));
        lines.push(Line::from(""));
    }
    lines.push(Line::from(Span::styled("Evidence".to_owned(), theme.key())));
    for (index, cited) in h.citations.iter().enumerate() {
        let marker = if index == citation { "▶ " } else { "  " };
        let style = if index == citation {
            theme.selected()
        } else {
            theme.muted()
        };
        lines.push(Line::from(vec![
            Span::raw(marker),
            Span::styled(
                format!("{} · {}{}", cited.passage_id, cited.title, place_suffix(&cited.place)),
                style,
            ),
        ]));
        lines.push(Line::from(format!("  “{}”", cited.text)));
        // A citation that does not support the hypothesis stands out.
        let judged = match cited.support {
            Some(hypatia_research::Support::Supports) => theme.good(),
            Some(_) => theme.bad(),
            None => theme.muted(),
        };
        lines.push(Line::from(Span::styled(
            format!("  {}", cited.support_summary()),
            judged,
        )));
    }
    Text::from(lines)
}
