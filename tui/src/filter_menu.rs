//! The filter prompt: a filter typed as `dump` takes it (`%path,!fd_close
//! --failed`), with the words that fit the one being typed listed under
//! it to complete or pick.

/// The prompt's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct FilterMenu {
    pub text: String,
    /// The completion picked with Up/Down, an index into
    /// [`FilterMenu::candidates`].
    pub cursor: Option<usize>,
    /// Why the last expression was refused.
    pub error: Option<String>,
}

/// Characters that end a word of a filter: list separators, `trace=`,
/// spaces, and `!` (negation, not part of the name).
fn is_separator(c: char) -> bool {
    matches!(c, ',' | '=' | ' ' | '!')
}

impl FilterMenu {
    pub fn new(text: &str) -> FilterMenu {
        FilterMenu {
            text: text.to_string(),
            ..FilterMenu::default()
        }
    }

    /// The word being typed: after the last separator.
    pub fn word(&self) -> &str {
        let start = self.text.rfind(is_separator).map_or(0, |i| i + 1);
        &self.text[start..]
    }

    /// The words that fit the one being typed: those that start with it,
    /// then those that contain it.
    pub fn candidates<'a>(&self, words: &'a [String]) -> Vec<&'a str> {
        let typed = self.word().to_ascii_lowercase();
        let starts = words.iter().filter(|w| w.starts_with(&typed));
        let contains = words
            .iter()
            .filter(|w| !w.starts_with(&typed) && w.contains(&typed));
        starts.chain(contains).map(String::as_str).collect()
    }

    pub fn edit(&mut self, edit: impl FnOnce(&mut String)) {
        edit(&mut self.text);
        self.cursor = None;
        self.error = None;
    }

    /// Moves the pick `by` places among `count` candidates.
    pub fn move_cursor(&mut self, by: i64, count: usize) {
        if count == 0 {
            self.cursor = None;
            return;
        }
        let next = match self.cursor {
            None if by > 0 => 0,
            None => count as i64 - 1,
            Some(c) => (c as i64 + by).clamp(0, count as i64 - 1),
        };
        self.cursor = Some(next as usize);
    }

    /// Puts the picked candidate (or the first) in place of the word being
    /// typed. False when no word fits.
    pub fn complete(&mut self, words: &[String]) -> bool {
        let candidates = self.candidates(words);
        let Some(word) = candidates.get(self.cursor.unwrap_or(0)) else {
            return false;
        };
        let start = self.text.len() - self.word().len();
        self.text.replace_range(start.., word);
        self.cursor = None;
        self.error = None;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words() -> Vec<String> {
        ["%fd", "%path", "fd_write", "path_open", "--failed"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn the_word_typed_is_completed_in_place() {
        let mut m = FilterMenu::new("trace=%fd,!pa");
        assert_eq!(m.word(), "pa");
        assert_eq!(m.candidates(&words()), ["path_open", "%path"]);
        assert!(m.complete(&words()));
        assert_eq!(m.text, "trace=%fd,!path_open");
        let mut m = FilterMenu::new("%");
        m.move_cursor(1, 2);
        m.move_cursor(1, 2);
        m.move_cursor(1, 2);
        assert_eq!(m.cursor, Some(1), "the pick stops at the last");
        assert!(m.complete(&words()));
        assert_eq!(m.text, "%path");
        let mut m = FilterMenu::new("zz");
        assert!(!m.complete(&words()));
        assert_eq!(m.text, "zz");
    }
}
