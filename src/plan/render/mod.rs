//! Renderers of a plan for people and machines.

pub mod human;

/// Whether to colour output. Decided once by the CLI (terminal, `NO_COLOR`, `--color`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    pub color: bool,
}

impl Style {
    fn paint(self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_string()
        }
    }
    pub fn added(self, text: &str) -> String {
        self.paint("32", text)
    }
    pub fn removed(self, text: &str) -> String {
        self.paint("31", text)
    }
    pub fn changed(self, text: &str) -> String {
        self.paint("33", text)
    }
    pub fn note(self, text: &str) -> String {
        self.paint("2", text)
    }
    pub fn bold(self, text: &str) -> String {
        self.paint("1", text)
    }
}
