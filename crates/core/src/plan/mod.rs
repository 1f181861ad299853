//! Desired x live -> [`Plan`] (pure, deterministic), and its renderers.

pub mod applied;
pub mod billing;
pub mod codes;
pub mod cost;
pub mod countries;
pub mod credits;
pub mod document;
pub mod groups;
pub mod model;
pub mod numbers;
pub mod observe;
pub mod planner;
pub mod problems;
pub mod render;
pub mod rules;
pub mod saved;
pub mod skus;
pub mod steps;

pub use groups::GroupChange;
pub use model::*;
pub use planner::plan;
pub use problems::{PlanErrors, PlanProblem};

#[cfg(test)]
mod tests;
