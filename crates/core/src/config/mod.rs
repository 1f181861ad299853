//! `commcred.yaml` -> spanned document -> validated [`DesiredState`], collecting every problem
//! as a diagnostic with a stable code.
//!
//! - `parse`: YAML text -> `node::Node` tree with spans (parser errors become diagnostics)
//! - `validate`: tree (and CSV files via `csv_source`) -> `DesiredState`, every problem kept
//!   (`validate/credits.rs`: money and payment; `validate/users.rs`: profiles and users)
//! - `fields`, `checks`: reporting accessors for the tree, single-value checks
//! - `diagnostics`: the codes, `Problem` and `ConfigError`
//! - `load`: the entry point that reads the files and computes the digest

mod checks;
mod csv_source;
mod diagnostics;
mod fields;
mod load;
pub mod model;
mod node;
mod parse;
pub mod price_schema;
pub mod schema;
mod validate;
pub mod workspace;

/// The loader's UPN rule, for commands that must predict what the loader accepts (export).
pub use checks::upn_problem;

pub use diagnostics::{Code, ConfigError, Problem, SourceFile};
pub use load::{LoadedConfig, load, load_bytes, load_config};
pub use model::*;
pub use validate::API_VERSION;

#[cfg(test)]
mod tests;
