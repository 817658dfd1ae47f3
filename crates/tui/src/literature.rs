//! The literature view: what the followed run's syntheses found, one section per sub-question — its
//! statements with each citation's judgement, where the papers agree and disagree, the gaps — and the
//! pairs of passages judged to agree or contradict, contradictions first. `c` marks the next passage
//! of the section; Enter opens its paper.

use hypatia_core::{PaperId, PassageId};
use hypatia_report::{ExportDocument, RelationEntry, SynthesisEntry};
use hypatia_research::{Relation, Support};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Cell, Paragraph, Row, Table, TableState, Wrap};

use crate::app::Command;
use crate::hypotheses::{Moved, Pane, move_in_panes};
use crate::keys::Key;
use crate::library::pane;
use crate::theme::Theme;

#[derive(Debug)]
pub struct LiteratureState {
    pub selected: usize,
    /// The marked passage of the section, in [`passages`] order.
    pub mark: usize,
    pub focus: Pane,
    pub scroll: u16,
}

impl Default for LiteratureState {
    fn default() -> Self {
        LiteratureState {
            selected: 0,
            mark: 0,
            focus: Pane::Leaderboard,
            scroll: 0,
        }
    }
}

/// A section's passages as the detail pane lists them: the statements' citations, then both sides of
/// each judged pair (contradictions first), each once.
fn passages(section: &SynthesisEntry) -> Vec<PassageId> {
    let mut ids: Vec<PassageId> = Vec::new();
    let cited = section
        .statements
        .iter()
        .flat_map(|s| s.citations.iter().map(|c| &c.passage_id));
    let paired = ordered_relations(section)
        .into_iter()
        .flat_map(|r| [&r.first, &r.second]);
    for id in cited.chain(paired) {
        if !ids.contains(id) {
            ids.push(id.clone());
        }
    }
    ids
}

/// Contradictions first, then agreements, then pairs found unrelated.
fn ordered_relations(section: &SynthesisEntry) -> Vec<&RelationEntry> {
    let rank = |r: &RelationEntry| match r.relation {
        Relation::Contradict => 0,
        Relation::Agree => 1,
        Relation::Unrelated => 2,
    };
    let mut relations: Vec<&RelationEntry> = section.relations.iter().collect();
    relations.sort_by_key(|r| rank(r));
    relations
}

fn contradictions(section: &SynthesisEntry) -> usize {
    section
        .relations
        .iter()
        .filter(|r| r.relation == Relation::Contradict)
        .count()
}

impl LiteratureState {
    fn current<'a>(&self, document: Option<&'a ExportDocument>) -> Option<&'a SynthesisEntry> {
        document?.synthesis.get(self.selected)
    }

    /// The paper of the marked passage, when the section has any.
    pub fn marked_paper(&self, document: Option<&ExportDocument>) -> Option<PaperId> {
        let section = self.current(document)?;
        passages(section).get(self.mark).map(PassageId::paper_id)
    }

    pub fn on_key(&mut self, key: Key, document: Option<&ExportDocument>) -> Vec<Command> {
        let count = document.map_or(0, |d| d.synthesis.len());
        match move_in_panes(key, count, self.selected, &mut self.focus, &mut self.scroll) {
            Moved::Pick(index) => self.pick(index),
            Moved::Handled => {}
            Moved::NotMine => return self.own_key(key, document),
        }
        Vec::new()
    }

    /// The keys of this view beyond moving in its panes.
    fn own_key(&mut self, key: Key, document: Option<&ExportDocument>) -> Vec<Command> {
        match key {
            Key::Char('c') => {
                let marked = self.current(document).map_or(0, |s| passages(s).len());
                if marked > 0 {
                    self.mark = (self.mark + 1) % marked;
                }
            }
            Key::Enter => {
                if let Some(paper) = self.marked_paper(document) {
                    return vec![Command::ShowPaper(paper)];
                }
            }
            Key::Char('e') => {
                if let Some(document) = document {
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
            self.mark = 0;
            self.scroll = 0;
        }
    }

    pub fn draw(&self, frame: &mut Frame, area: Rect, document: Option<&ExportDocument>, theme: Theme) {
        let Some(document) = document else {
            let text = "No run open. Choose one in the runs view (2) and press Enter.";
            frame.render_widget(
                Paragraph::new(text)
                    .style(theme.muted())
                    .block(pane(Line::from(" Literature "), false, theme)),
                area,
            );
            return;
        };
        if document.synthesis.is_empty() {
            let text = "This run wrote no synthesis (started with --no-synthesis, or before syntheses existed).";
            frame.render_widget(
                Paragraph::new(text)
                    .style(theme.muted())
                    .wrap(Wrap { trim: false })
                    .block(pane(Line::from(" Literature "), false, theme)),
                area,
            );
            return;
        }
        let [list, detail] = Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(area);
        let rows: Vec<Row> = document
            .synthesis
            .iter()
            .map(|section| {
                let contradicted = contradictions(section);
                let flag = if contradicted > 0 {
                    Cell::from(Span::styled(format!("{contradicted}✗"), theme.bad()))
                } else {
                    Cell::from("")
                };
                Row::new(vec![
                    Cell::from(section.number.to_string()),
                    Cell::from(section.status.clone()),
                    flag,
                    Cell::from(section.sub_question.clone()),
                ])
            })
            .collect();
        let table = Table::new(
            rows,
            [
                Constraint::Length(3),
                Constraint::Length(11),
                Constraint::Length(3),
                Constraint::Min(10),
            ],
        )
        .header(Row::new(vec!["#", "status", "✗", "sub-question"]).style(theme.muted()))
        .row_highlight_style(theme.selected())
        .block(pane(
            Line::from(" What the literature shows "),
            self.focus == Pane::Leaderboard,
            theme,
        ));
        let mut state = TableState::default().with_selected(Some(self.selected));
        frame.render_stateful_widget(table, list, &mut state);

        let text = self
            .current(Some(document))
            .map_or_else(Text::default, |s| section_text(document, s, self.mark, theme));
        frame.render_widget(
            Paragraph::new(text)
                .wrap(Wrap { trim: false })
                .scroll((self.scroll, 0))
                .block(pane(
                    Line::from(" Section (Tab, c: next passage, Enter: open paper) "),
                    self.focus == Pane::Detail,
                    theme,
                )),
            detail,
        );
    }
}

fn section_text(document: &ExportDocument, section: &SynthesisEntry, mark: usize, theme: Theme) -> Text<'static> {
    let marked = passages(section).get(mark).cloned();
    let marker = |id: &PassageId| if Some(id) == marked.as_ref() { "▶ " } else { "  " };
    let mut lines = vec![
        Line::from(Span::styled(section.sub_question.clone(), theme.title())),
        Line::from(Span::styled(
            format!("section {} · {}", section.number, section.status),
            theme.muted(),
        )),
        Line::from(""),
    ];
    if let Some(note) = &section.note {
        lines.push(Line::from(Span::styled(note.clone(), theme.bad())));
        lines.push(Line::from(""));
    }
    for (n, statement) in section.statements.iter().enumerate() {
        lines.push(Line::from(Span::styled(
            format!("{}. {}", n + 1, statement.text),
            theme.key(),
        )));
        for citation in &statement.citations {
            let judged = match citation.support {
                Some(Support::Supports) => theme.good(),
                Some(_) => theme.bad(),
                None => theme.muted(),
            };
            lines.push(Line::from(format!(
                "{}{} · {}",
                marker(&citation.passage_id),
                citation.passage_id,
                citation.title
            )));
            lines.push(Line::from(Span::styled(
                format!("    {}", citation.support_summary()),
                judged,
            )));
        }
        lines.push(Line::from(""));
    }
    let mut part = |name: &str, body: Option<&String>| {
        if let Some(body) = body {
            lines.push(Line::from(Span::styled(name.to_owned(), theme.key())));
            lines.push(Line::from(body.clone()));
            lines.push(Line::from(""));
        }
    };
    part("Where the papers agree", section.agreement.as_ref());
    part("Where they disagree", section.disagreement.as_ref());
    if !section.gaps.is_empty() {
        lines.push(Line::from(Span::styled("Gaps".to_owned(), theme.key())));
        for (n, gap) in section.gaps.iter().enumerate() {
            lines.push(Line::from(format!("{}.{} {gap}", section.number, n + 1)));
        }
        lines.push(Line::from(""));
    }
    let relations = ordered_relations(section);
    if !relations.is_empty() {
        lines.push(Line::from(Span::styled("Passages compared".to_owned(), theme.key())));
    }
    for relation in relations {
        let (label, style) = match relation.relation {
            Relation::Contradict => ("CONTRADICT", theme.bad()),
            Relation::Agree => ("agree", theme.good()),
            Relation::Unrelated => ("unrelated", theme.muted()),
        };
        let kept = if relation.reused {
            " · kept from an earlier run"
        } else {
            ""
        };
        lines.push(Line::from(vec![
            Span::styled(label.to_owned(), style),
            Span::styled(format!(" · {}{kept}", relation.model), theme.muted()),
        ]));
        for id in [&relation.first, &relation.second] {
            let quoted = document.evidence.iter().find(|e| &e.passage_id == id);
            let title = quoted.map_or("", |e| e.title.as_str());
            lines.push(Line::from(format!("{}{id} · {title}", marker(id))));
            if let Some(entry) = quoted {
                lines.push(Line::from(Span::styled(format!("    “{}”", entry.text), theme.muted())));
            }
        }
        lines.push(Line::from(format!("  {}", relation.reason)));
        lines.push(Line::from(""));
    }
    Text::from(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn relation(first: &str, second: &str, relation: Relation) -> RelationEntry {
        RelationEntry {
            first: first.parse().expect("id"),
            first_key: String::new(),
            second: second.parse().expect("id"),
            second_key: String::new(),
            relation,
            reason: "r".into(),
            model: "m".into(),
            reused: false,
        }
    }

    #[test]
    fn a_sections_passages_list_contradicted_pairs_first_and_each_passage_once() {
        let section = SynthesisEntry {
            number: 1,
            sub_question: "q".into(),
            status: "written".into(),
            note: None,
            statements: vec![],
            agreement: None,
            disagreement: None,
            gaps: vec![],
            relations: vec![
                relation("p000000000001#0", "p000000000002#0", Relation::Agree),
                relation("p000000000003#0", "p000000000001#0", Relation::Contradict),
            ],
        };
        let ids: Vec<String> = passages(&section).iter().map(|p| p.to_string()).collect();
        assert_eq!(ids, ["p000000000003#0", "p000000000001#0", "p000000000002#0"]);
        assert_eq!(contradictions(&section), 1);
    }
}
