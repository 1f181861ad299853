//! The lowest layer: facts and helpers every other layer may use.

pub mod catalog;
#[cfg(test)]
mod catalog_gen;
