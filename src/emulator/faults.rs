//! Fault injection: the failures a client meets on the real Graph, at rates set by flags.
//!
//! - latency: every request waits `latency` plus up to `latency_jitter` before it is handled;
//! - dropped connections (`drop_rate`, per HTTP request, `$batch` included): half are cut
//!   before the request is handled, half after it was handled, so the change is committed
//!   but its answer is lost — the case that makes blind retries apply a change twice;
//! - 5xx (`error_rate`, per unit: a top-level request or one `$batch` item): half are a 503
//!   before handling, half a 504 after handling (a gateway timeout over a committed change);
//! - 429 (`throttle_rate`, per unit, before handling) with `Retry-After: retry_after_secs`,
//!   on top of the write quota's own 429s.
//!
//! The token endpoint is exempt: it is another service (Entra ID), and its failures are not
//! what these tests are about.

use std::sync::Mutex;
use std::time::Duration;

use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

#[derive(Debug, Clone, PartialEq)]
pub struct FaultConfig {
    pub latency: Duration,
    pub latency_jitter: Duration,
    /// Fraction (0..=1) of units answered with a 5xx.
    pub error_rate: f64,
    /// Fraction (0..=1) of units answered with an injected 429.
    pub throttle_rate: f64,
    /// Fraction (0..=1) of HTTP requests whose connection is dropped.
    pub drop_rate: f64,
    /// `Retry-After` of injected 429s.
    pub retry_after_secs: u64,
    /// Seed for reproducible fault sequences; `None` seeds from the OS.
    pub seed: Option<u64>,
}

impl Default for FaultConfig {
    fn default() -> FaultConfig {
        FaultConfig {
            latency: Duration::ZERO,
            latency_jitter: Duration::ZERO,
            error_rate: 0.0,
            throttle_rate: 0.0,
            drop_rate: 0.0,
            retry_after_secs: 1,
            seed: None,
        }
    }
}

impl FaultConfig {
    /// Checks that rates are fractions.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("error rate", self.error_rate),
            ("throttle rate", self.throttle_rate),
            ("drop rate", self.drop_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("the {name} must be between 0 and 1, got {rate}"));
            }
        }
        Ok(())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DropFault {
    None,
    Before,
    After,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitFault {
    None,
    ErrorBefore,
    ErrorAfter,
    Throttle,
}

pub struct Faults {
    pub config: FaultConfig,
    rng: Mutex<SmallRng>,
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = match config.seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::seed_from_u64(rand::random()),
        };
        Faults {
            config,
            rng: Mutex::new(rng),
        }
    }

    pub fn delay(&self) -> Duration {
        let c = &self.config;
        if c.latency_jitter.is_zero() {
            return c.latency;
        }
        let jitter: f64 = self.rng.lock().expect("rng lock").random();
        c.latency + c.latency_jitter.mul_f64(jitter)
    }

    pub fn draw_drop(&self) -> DropFault {
        if self.config.drop_rate <= 0.0 {
            return DropFault::None;
        }
        let mut rng = self.rng.lock().expect("rng lock");
        if !rng.random_bool(self.config.drop_rate) {
            DropFault::None
        } else if rng.random_bool(0.5) {
            DropFault::Before
        } else {
            DropFault::After
        }
    }

    pub fn draw_unit(&self) -> UnitFault {
        let c = &self.config;
        if c.error_rate <= 0.0 && c.throttle_rate <= 0.0 {
            return UnitFault::None;
        }
        let mut rng = self.rng.lock().expect("rng lock");
        let x: f64 = rng.random();
        if x < c.error_rate {
            if rng.random_bool(0.5) {
                UnitFault::ErrorBefore
            } else {
                UnitFault::ErrorAfter
            }
        } else if x < c.error_rate + c.throttle_rate {
            UnitFault::Throttle
        } else {
            UnitFault::None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_roughly_honoured_and_reproducible() {
        let config = FaultConfig {
            error_rate: 0.1,
            throttle_rate: 0.05,
            seed: Some(7),
            ..FaultConfig::default()
        };
        let draw = || {
            let f = Faults::new(config.clone());
            (0..10_000).map(|_| f.draw_unit()).collect::<Vec<_>>()
        };
        let a = draw();
        assert_eq!(a, draw());
        let errors = a
            .iter()
            .filter(|u| matches!(u, UnitFault::ErrorBefore | UnitFault::ErrorAfter))
            .count();
        let throttles = a.iter().filter(|u| **u == UnitFault::Throttle).count();
        assert!((800..1200).contains(&errors), "{errors}");
        assert!((350..650).contains(&throttles), "{throttles}");
    }

    #[test]
    fn rates_outside_unit_interval_are_refused() {
        let bad = FaultConfig {
            drop_rate: 1.5,
            ..FaultConfig::default()
        };
        assert!(bad.validate().is_err());
    }
}
