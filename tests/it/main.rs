//! The one integration-test binary (one link step for every test module).

mod common;
mod planner_props;
mod schema;
