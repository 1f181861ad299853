//! The base layer: what every other layer may use and that uses nothing above it.
//!
//! - `money`: exact decimal amounts with their currency
//! - `codes`: ISO country and currency codes
//! - `licenses`: the license catalog (capabilities, SKUs, service plans)
//! - `fsio`: safe file I/O (atomic replace keeping mode, fsync, bounded advisory lock)

pub mod codes;
pub mod fsio;
pub mod licenses;
pub mod money;
