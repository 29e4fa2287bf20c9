//! The filter prompt's completions and the filter in force.

use super::{ActiveFilter, App, Job, Overlay};
use crate::filter_menu::FilterMenu;
use crate::source::TraceSource;

impl<S: TraceSource> App<S> {
    pub(super) fn open_filter_menu(&mut self) {
        let current = self.filter.as_ref().map_or("", |f| f.expr.as_str());
        self.overlay = Overlay::Filter(FilterMenu::new(current));
    }

    pub(super) fn move_menu_cursor(&mut self, by: i64) {
        match &mut self.overlay {
            Overlay::Filter(menu) => {
                let count = menu.candidates(&self.filter_words).len();
                menu.move_cursor(by, count);
            }
            Overlay::Breakpoints { cursor } => {
                let last = self.breakpoints.len().saturating_sub(1) as i64;
                *cursor = (*cursor as i64 + by).clamp(0, last) as usize;
            }
            _ => {}
        }
    }

    pub(super) fn complete_filter(&mut self) {
        if let Overlay::Filter(menu) = &mut self.overlay {
            if !menu.complete(&self.filter_words) {
                menu.error = Some(format!("nothing to complete {:?} with", menu.word()));
            }
        }
    }

    /// Applies the typed filter (with the picked completion, if any); an
    /// empty one shows every call. A bad one keeps the prompt open.
    pub(super) fn choose_filter(&mut self) {
        let Overlay::Filter(menu) = &mut self.overlay else {
            return;
        };
        if menu.cursor.is_some() {
            menu.complete(&self.filter_words);
        }
        let expr = menu.text.trim().to_string();
        if expr.is_empty() {
            self.overlay = Overlay::None;
            self.apply_filter(None);
            return;
        }
        match self.source.select(&expr) {
            Ok(task) => {
                self.overlay = Overlay::None;
                self.job = Some(Job::Filter { task, expr });
            }
            Err(why) => menu.error = Some(why),
        }
    }

    /// Shows the calls `filter` keeps (all with `None`), keeping the
    /// selected call, or the next one the filter keeps, in view.
    pub(super) fn apply_filter(&mut self, filter: Option<ActiveFilter>) {
        let keep = self.selected_seq().unwrap_or(0);
        self.filter = filter;
        self.offset = 0;
        self.selected = 0;
        self.select_call(keep);
        self.status = match &self.filter {
            Some(f) => format!("filter {}: {} calls (f: change)", f.expr, f.seqs.len()),
            None => "no filter: every call".into(),
        };
    }
}
