//! The base layer: what every other layer may use and that uses nothing above it.
//!
//! - `money`: exact decimal amounts with their currency
//! - `codes`: ISO country and currency codes
//! - `catalog`: the capability catalog generated from Microsoft's SKU table
//!   (`data/license-catalog.json`; its generator `catalog_gen` runs as a test)
//! - `licenses`: the YAML's license names (friendly names and part numbers)
//! - `fsio`: safe file I/O (atomic replace keeping mode, fsync, bounded advisory lock)
//! - `notice`: a problem or warning with its code and help (planner, export)
//! - `phone`: E.164 telephone numbers and Teams number types
//! - `text`: message helpers ("a, b and 3 more")
//! - `source_window`: diagnostic snippets cut to a window on long lines

pub mod catalog;
#[cfg(test)]
mod catalog_gen;
pub mod codes;
pub mod fsio;
pub mod licenses;
pub mod money;
pub mod notice;
pub mod phone;
pub mod source_window;
pub mod text;
