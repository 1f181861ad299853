//! Renderers of a plan for people and machines.

pub mod cost;
pub mod groups;
pub mod human;
pub mod markdown;
pub mod outlook;
pub mod powershell;

use super::{Plan, UserChange};

/// Users who lose at least one license: every renderer lists all of them up front, because
/// a removal takes a capability away from a person (SPEC: removals are never buried).
pub fn users_losing_licenses(plan: &Plan) -> impl Iterator<Item = &UserChange> {
    plan.users.iter().filter(|u| !u.remove.is_empty())
}

/// Users who gain at least one license.
pub fn users_gaining_licenses(plan: &Plan) -> impl Iterator<Item = &UserChange> {
    plan.users.iter().filter(|u| !u.add.is_empty())
}

/// What a piece of rendered text is. Renderers say it; how it looks is the CLI's choice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Added,
    Removed,
    Changed,
    /// Secondary text (notes, counts).
    Note,
    Bold,
    /// A diff's hunk header (`@@ … @@`).
    Hunk,
}

/// How renderers mark text: plain (the default), or through `paint`, which the CLI gives
/// when it colours output (terminal, `NO_COLOR`, `--color`). No terminal escape is written
/// below the CLI.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    paint: Option<fn(Tone, &str) -> String>,
}

impl Style {
    /// Marks text with `paint`.
    pub fn painted(paint: fn(Tone, &str) -> String) -> Style {
        Style { paint: Some(paint) }
    }
    /// True when text is marked (coloured).
    pub fn is_painted(self) -> bool {
        self.paint.is_some()
    }
    pub fn paint(self, tone: Tone, text: &str) -> String {
        match self.paint {
            Some(paint) => paint(tone, text),
            None => text.to_string(),
        }
    }
    pub fn added(self, text: &str) -> String {
        self.paint(Tone::Added, text)
    }
    pub fn removed(self, text: &str) -> String {
        self.paint(Tone::Removed, text)
    }
    pub fn changed(self, text: &str) -> String {
        self.paint(Tone::Changed, text)
    }
    pub fn note(self, text: &str) -> String {
        self.paint(Tone::Note, text)
    }
    pub fn bold(self, text: &str) -> String {
        self.paint(Tone::Bold, text)
    }
}
