//! `commcred.yaml` -> spanned document -> validated [`DesiredState`], collecting every problem
//! as a diagnostic with a stable code.

pub mod model;

pub use model::*;
