//! The one integration-test binary (one link step for every test module).

mod common;
mod credits;
mod formats;
mod plan_apply;
mod planner_props;
mod saved_plans;
mod validate;
