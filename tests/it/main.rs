//! The one integration-test binary (one link step for every test module).

mod billing_countries;
mod code_shape;
mod common;
mod cost;
mod credits;
mod docs;
mod drift;
mod emulator;
mod examples;
mod export;
mod first_hour;
mod formats;
mod graph;
mod graph_edge;
mod graph_fidelity;
mod graph_wire;
mod graph_writes;
mod groups;
mod groups_graph;
mod honest_io;
mod json_shape;
mod layers;
mod licensing;
mod microsoft_rules;
mod numbers;
mod numbers_emulator;
mod numbers_graph;
mod plan_apply;
mod planner_props;
mod readiness;
mod readme;
mod saved_plans;
mod schema;
mod signin;
mod validate;
mod waste;
mod workflow;
mod workspaces;

/// Synthetic tenants and configs (not part of the library, see its header).
#[allow(dead_code)]
#[path = "../../crates/core/src/testkit.rs"]
mod testkit;
