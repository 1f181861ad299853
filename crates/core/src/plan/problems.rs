//! Plan errors: problems that need the live tenant to be seen (seats, prerequisites,
//! missing users...). Each has a stable code and a help line; all are reported together.

use super::codes::Code;
use std::fmt;

/// One reason the plan cannot be carried out (an error [`Notice`]).
pub type PlanProblem = crate::base::notice::Notice;

/// Every problem found while planning. Nothing is applied when there is one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanErrors(pub Vec<PlanProblem>);

impl fmt::Display for PlanErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.0.len();
        write!(
            f,
            "the plan has {n} error{}; nothing was changed",
            if n == 1 { "" } else { "s" }
        )
    }
}

impl std::error::Error for PlanErrors {}

impl miette::Diagnostic for PlanErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(Code::Failed.as_str()))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.0.iter().map(|p| p as &dyn miette::Diagnostic),
        ))
    }
}

pub use crate::base::text::list_some;
