//! The one integration-test binary (one link step for every test module).

mod common;
mod emulator;
mod graph;
mod plan_apply;
mod planner_props;
mod validate;
