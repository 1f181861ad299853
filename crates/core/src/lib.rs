//! commcred: declarative Teams calling licenses and Communications Credits.
//!
//! The library holds everything but the terminal: `config` (YAML to desired state),
//! `tenant` (the live-state model and Microsoft's rules), `plan` (desired x live -> plan),
//! `apply` and `backend` (executing plans), `workflow` (what each command does). The local
//! Microsoft Graph is its own crate (`crates/emulator`), the command line the root package.

// Lets code shared with the integration tests (`testkit.rs`) name the library the same
// way from inside and outside it.
extern crate self as commcred;

pub mod apply;
pub mod backend;
pub mod base;
pub mod config;
pub mod credits;
pub mod drift;
pub mod export;
pub mod plan;
pub mod tenant;
#[cfg(test)]
pub mod testkit;
pub mod waste;
pub mod workflow;
