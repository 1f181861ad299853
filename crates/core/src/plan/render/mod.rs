//! Renderers of a plan for people and machines.

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
