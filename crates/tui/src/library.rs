//! The library view: a search box with results as you type, year and author filters, the selected
//! paper in full, and a histogram of the hits' publication years.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use hypatia_core::{Paper, PaperId};
use hypatia_project::{PaperHit, YearRange};
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span, Text};
use ratatui::widgets::{Bar, BarChart, BarGroup, Block, Borders, List, ListItem, ListState, Paragraph, Wrap};

use crate::app::Command;
use crate::keys::Key;
use crate::theme::Theme;
use hypatia_runs::Steering;

/// Typing pauses this long before the search runs: results follow the typing without a search per key.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Hits fetched per search: enough for the histogram to mean something.
pub const HIT_LIMIT: usize = 200;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Query,
    Years,
    Author,
    Results,
}

/// What to search for, as typed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SearchSpec {
    pub query: String,
    pub years: Option<YearRange>,
    pub author: Option<String>,
}

#[derive(Debug)]
pub struct LibraryState {
    pub query: String,
    pub years: String,
    pub author: String,
    pub focus: Field,
    pub hits: Vec<PaperHit>,
    pub selected: usize,
    pub detail: Option<Paper>,
    /// A filter that does not parse, or a failed search.
    pub problem: Option<String>,
    search_due: Option<Instant>,
    /// The search the hits answer.
    pub searched: Option<SearchSpec>,
}

impl Default for LibraryState {
    fn default() -> Self {
        LibraryState {
            query: String::new(),
            years: String::new(),
            author: String::new(),
            // Keys act on views until `/` opens the search box.
            focus: Field::Results,
            hits: Vec::new(),
            selected: 0,
            detail: None,
            problem: None,
            search_due: None,
            searched: None,
        }
    }
}

impl LibraryState {
    pub fn is_typing(&self) -> bool {
        self.focus != Field::Results
    }

    pub fn on_key(&mut self, key: Key, now: Instant) -> Vec<Command> {
        match (self.focus, key) {
            (_, Key::Tab) => {
                self.focus = match self.focus {
                    Field::Query => Field::Years,
                    Field::Years => Field::Author,
                    Field::Author => Field::Results,
                    Field::Results => Field::Query,
                };
                Vec::new()
            }
            (Field::Results, Key::Char('/')) => {
                self.focus = Field::Query;
                Vec::new()
            }
            (Field::Results, Key::Down | Key::Char('j')) => self.select(self.selected.saturating_add(1)),
            (Field::Results, Key::Up | Key::Char('k')) => self.select(self.selected.saturating_sub(1)),
            (Field::Results, Key::PageDown) => self.select(self.selected.saturating_add(10)),
            (Field::Results, Key::PageUp) => self.select(self.selected.saturating_sub(10)),
            (Field::Results, Key::Home | Key::Char('g')) => self.select(0),
            (Field::Results, Key::End | Key::Char('G')) => self.select(usize::MAX),
            (Field::Results, _) => Vec::new(),
            (_, Key::Enter | Key::Esc | Key::Down) => {
                self.focus = Field::Results;
                Vec::new()
            }
            (field, Key::Char(c)) => {
                self.field_mut(field).push(c);
                self.edited(now)
            }
            (field, Key::Backspace) => {
                self.field_mut(field).pop();
                self.edited(now)
            }
            _ => Vec::new(),
        }
    }

    /// Runs the search once typing has paused.
    pub fn tick(&mut self, now: Instant) -> Vec<Command> {
        match self.search_due {
            Some(due) if now >= due => {
                self.search_due = None;
                match self.spec() {
                    Ok(spec) if self.searched.as_ref() != Some(&spec) => vec![Command::Search(spec)],
                    Ok(_) => Vec::new(),
                    Err(problem) => {
                        self.problem = Some(problem);
                        Vec::new()
                    }
                }
            }
            _ => Vec::new(),
        }
    }

    pub fn searched(&mut self, spec: SearchSpec, result: Result<Vec<PaperHit>, String>) -> Vec<Command> {
        // An answer to an older search than the one on screen is dropped.
        if self.spec().ok().as_ref() != Some(&spec) {
            return Vec::new();
        }
        self.searched = Some(spec);
        match result {
            Ok(hits) => {
                self.problem = None;
                self.hits = hits;
                self.selected = 0;
                self.detail = None;
                self.open_selected()
            }
            Err(problem) => {
                self.problem = Some(problem);
                Vec::new()
            }
        }
    }

    pub fn opened(&mut self, paper: Paper) {
        self.detail = Some(paper);
    }

    fn edited(&mut self, now: Instant) -> Vec<Command> {
        self.problem = None;
        self.search_due = Some(now + DEBOUNCE);
        Vec::new()
    }

    fn field_mut(&mut self, field: Field) -> &mut String {
        match field {
            Field::Years => &mut self.years,
            Field::Author => &mut self.author,
            Field::Query | Field::Results => &mut self.query,
        }
    }

    fn spec(&self) -> Result<SearchSpec, String> {
        let years = match self.years.trim() {
            "" => None,
            text => Some(
                text.parse::<YearRange>()
                    .map_err(|e| format!("years: {e} (try 2020..2024, 2020.., ..2024 or 2021)"))?,
            ),
        };
        let author = Some(self.author.trim().to_owned()).filter(|a| !a.is_empty());
        Ok(SearchSpec {
            query: self.query.trim().to_owned(),
            years,
            author,
        })
    }

    fn select(&mut self, index: usize) -> Vec<Command> {
        if self.hits.is_empty() {
            return Vec::new();
        }
        let index = index.min(self.hits.len() - 1);
        if index == self.selected && self.detail.is_some() {
            return Vec::new();
        }
        self.selected = index;
        self.open_selected()
    }

    fn open_selected(&self) -> Vec<Command> {
        self.hits
            .get(self.selected)
            .map(|hit| vec![Command::OpenPaper(hit.paper_id.clone())])
            .unwrap_or_default()
    }

    pub fn selected_paper(&self) -> Option<&PaperId> {
        self.hits.get(self.selected).map(|h| &h.paper_id)
    }

    /// Draws the view; results pinned into (or excluded from) the followed run are marked.
    pub fn draw(&self, frame: &mut Frame, area: Rect, steering: Option<&Steering>, theme: Theme) {
        let [left, right] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)]).areas(area);
        let [search, filters, results] =
            Layout::vertical([Constraint::Length(3), Constraint::Length(3), Constraint::Min(3)]).areas(left);
        let [years, author] =
            Layout::horizontal([Constraint::Percentage(40), Constraint::Percentage(60)]).areas(filters);
        self.input(frame, search, "Search (/)", &self.query, Field::Query, theme);
        self.input(frame, years, "Years", &self.years, Field::Years, theme);
        self.input(frame, author, "Author", &self.author, Field::Author, theme);

        let title = match (&self.problem, &self.searched) {
            (Some(problem), _) => Line::from(Span::styled(format!(" {problem} "), theme.bad())),
            (None, Some(_)) => Line::from(format!(" Results: {} ", self.hits.len())),
            (None, None) => Line::from(" Results "),
        };
        let items: Vec<ListItem> = self
            .hits
            .iter()
            .map(|hit| {
                let year = hit.year.map_or("    ".to_owned(), |y| y.to_string());
                let mark = match steering {
                    Some(s) if s.is_pinned(&hit.paper_id) => Span::styled("pin ", theme.good()),
                    Some(s) if s.is_excluded(&hit.paper_id) => Span::styled("out ", theme.bad()),
                    _ => Span::raw(""),
                };
                ListItem::new(Line::from(vec![
                    Span::styled(format!("{year} "), theme.muted()),
                    mark,
                    Span::raw(hit.title.clone()),
                ]))
            })
            .collect();
        let empty = self.hits.is_empty();
        let list = List::new(items)
            .block(pane(title, self.focus == Field::Results, theme))
            .highlight_style(theme.selected());
        let mut state = ListState::default().with_selected((!empty).then_some(self.selected));
        frame.render_stateful_widget(list, results, &mut state);
        if empty && self.searched.is_some() && self.problem.is_none() {
            let inner = results.inner(ratatui::layout::Margin::new(2, 1));
            frame.render_widget(Paragraph::new("No paper matches.").style(theme.muted()), inner);
        }

        let [detail, histogram] = Layout::vertical([Constraint::Min(6), Constraint::Length(9)]).areas(right);
        self.detail_pane(frame, detail, theme);
        self.histogram(frame, histogram, theme);
    }

    fn input(&self, frame: &mut Frame, area: Rect, title: &str, text: &str, field: Field, theme: Theme) {
        let focused = self.focus == field;
        let cursor = if focused { "▏" } else { "" };
        let widget =
            Paragraph::new(format!("{text}{cursor}")).block(pane(Line::from(format!(" {title} ")), focused, theme));
        frame.render_widget(widget, area);
    }

    fn detail_pane(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = pane(Line::from(" Paper "), false, theme);
        let Some(paper) = &self.detail else {
            let hint = if self.hits.is_empty() {
                "Type to search the project's papers."
            } else {
                "Select a result to see it here."
            };
            frame.render_widget(Paragraph::new(hint).style(theme.muted()).block(block), area);
            return;
        };
        let mut lines = vec![
            Line::from(Span::styled(paper.title.clone(), theme.title())),
            Line::from(""),
        ];
        let mut field = |name: &str, value: String| {
            lines.push(Line::from(vec![
                Span::styled(format!("{name:<8}"), theme.muted()),
                Span::raw(value),
            ]));
        };
        if !paper.authors.is_empty() {
            field("authors", paper.authors.join(", "));
        }
        if let Some(year) = paper.year {
            field("year", year.to_string());
        }
        if let Some(venue) = &paper.venue {
            field("venue", venue.clone());
        }
        if let Some(doi) = &paper.doi {
            field("doi", doi.clone());
        }
        if let Some(arxiv) = &paper.arxiv_id {
            field("arXiv", arxiv.clone());
        }
        field("id", paper.id.to_string());
        lines.push(Line::from(""));
        lines.push(Line::from(
            paper
                .abstract_text
                .clone()
                .unwrap_or_else(|| "(no abstract)".to_owned()),
        ));
        frame.render_widget(
            Paragraph::new(Text::from(lines))
                .wrap(Wrap { trim: false })
                .block(block),
            area,
        );
    }

    fn histogram(&self, frame: &mut Frame, area: Rect, theme: Theme) {
        let block = pane(Line::from(" Hits per year "), false, theme);
        let mut per_year: BTreeMap<i32, u64> = BTreeMap::new();
        for hit in &self.hits {
            if let Some(year) = hit.year {
                *per_year.entry(year).or_default() += 1;
            }
        }
        if per_year.is_empty() {
            let text = if self.hits.is_empty() { "" } else { "No hit has a year." };
            frame.render_widget(Paragraph::new(text).style(theme.muted()).block(block), area);
            return;
        }
        // As many of the latest years as fit, five columns each.
        let fits = (area.width.saturating_sub(2) / 5).max(1) as usize;
        let years: Vec<(&i32, &u64)> = per_year.iter().rev().take(fits).collect();
        let bars: Vec<Bar> = years
            .iter()
            .rev()
            .map(|(year, count)| {
                Bar::default()
                    .value(**count)
                    .label(Line::from(format!("{:02}", *year % 100)))
                    .style(theme.chart())
            })
            .collect();
        let chart = BarChart::default()
            .block(block)
            .data(BarGroup::default().bars(&bars))
            .bar_width(4)
            .bar_gap(1);
        frame.render_widget(chart, area);
    }
}

pub fn pane<'a>(title: Line<'a>, focused: bool, theme: Theme) -> Block<'a> {
    Block::default()
        .borders(Borders::ALL)
        .title(title)
        .border_style(if focused {
            theme.focused_border()
        } else {
            theme.border()
        })
}
