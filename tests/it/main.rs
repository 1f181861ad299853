//! The one integration-test binary (one link step for every test module).

mod common;
mod credits;
mod docs;
mod emulator;
mod examples;
mod export;
mod formats;
mod graph;
mod graph_fidelity;
mod layers;
mod plan_apply;
mod planner_props;
mod saved_plans;
mod schema;
mod validate;

/// Synthetic tenants and configs (not part of the library, see its header).
#[allow(dead_code)]
#[path = "../../src/testkit.rs"]
mod testkit;
