//! `commcred.yaml` -> spanned document -> validated [`DesiredState`], collecting every problem
//! as a diagnostic with a stable code.

pub mod model;
pub mod schema;

pub use model::*;

// Placeholder until the `config` branch (YAML loading and validation) is merged; that
// branch replaces this with the real loader.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
#[error("loading commcred.yaml is not merged yet")]
pub struct ConfigError;

pub fn load(_path: &std::path::Path) -> Result<DesiredState, ConfigError> {
    Err(ConfigError)
}
