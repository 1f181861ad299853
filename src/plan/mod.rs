//! Desired x live -> [`Plan`] (pure, deterministic), and its renderers.

pub mod model;

pub use model::*;
