//! The live-state model (Graph-shaped) and the rules of Microsoft 365 licensing and
//! Communications Credits. Pure: no I/O, no clock.

pub mod capabilities;
pub mod countries;
pub mod credits;
pub mod groups;
pub mod numbers;
pub mod readiness;
pub mod rules;
pub mod snapshot;
pub mod waste;

pub use groups::{Group, GroupRetry};
pub use numbers::{NumberAssignment, NumberIndex, TeamsUserConfiguration};
pub use rules::{RuleError, RuleKind, TenantIndex};
pub use snapshot::*;
