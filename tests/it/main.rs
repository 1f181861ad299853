//! The one integration-test binary (one link step for every test module).

mod common;
mod docs;
mod examples;
mod export;
mod plan_apply;
mod planner_props;
mod schema;
mod validate;
