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
//!
//! The rates and `Retry-After` can change while the emulator runs (`POST /_emulator/faults`),
//! so a test can model a throttling burst that ends.

use std::sync::{Mutex, RwLock};
use std::time::Duration;

use serde::Serialize;
use serde_json::{Map, Value};

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
        // Both are drawn from one number per unit.
        if self.error_rate + self.throttle_rate > 1.0 {
            return Err(format!(
                "the error rate and the throttle rate together must not exceed 1, got {} + {}",
                self.error_rate, self.throttle_rate
            ));
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
    config: RwLock<FaultConfig>,
    rng: Mutex<SmallRng>,
}

/// The settings `GET`/`POST /_emulator/faults` show, named as the flags are (camelCase).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct LiveFaults {
    pub throttle_rate: f64,
    pub error_rate: f64,
    pub drop_rate: f64,
    pub retry_after: u64,
}

impl LiveFaults {
    fn of(c: &FaultConfig) -> LiveFaults {
        LiveFaults {
            throttle_rate: c.throttle_rate,
            error_rate: c.error_rate,
            drop_rate: c.drop_rate,
            retry_after: c.retry_after_secs,
        }
    }
}

/// Applies a JSON object holding any subset of `throttleRate`, `errorRate`, `dropRate`
/// (fractions) and `retryAfter` (whole seconds) to `config`. Unknown keys and values out of
/// range are refused and nothing changes.
pub fn apply_patch(config: &FaultConfig, body: &[u8]) -> Result<FaultConfig, String> {
    let value: Value =
        serde_json::from_slice(body).map_err(|e| format!("the body is not JSON: {e}"))?;
    let Value::Object(fields) = value else {
        return Err("the body must be a JSON object".into());
    };
    let mut next = config.clone();
    for (key, v) in &fields {
        let rate = |v: &Value| -> Result<f64, String> {
            v.as_f64()
                .filter(|r| (0.0..=1.0).contains(r))
                .ok_or_else(|| format!("`{key}` must be a number from 0 to 1, got {v}"))
        };
        match key.as_str() {
            "throttleRate" => next.throttle_rate = rate(v)?,
            "errorRate" => next.error_rate = rate(v)?,
            "dropRate" => next.drop_rate = rate(v)?,
            "retryAfter" => {
                next.retry_after_secs = v.as_u64().filter(|s| *s <= 3600).ok_or_else(|| {
                    format!("`retryAfter` must be whole seconds from 0 to 3600, got {v}")
                })?
            }
            other => {
                return Err(format!(
                    "unknown setting `{other}`; expected throttleRate, errorRate, dropRate or retryAfter"
                ));
            }
        }
    }
    next.validate()?;
    Ok(next)
}

/// The error body of a refused `/_emulator/faults` request (not Graph: a plain object).
pub fn patch_error(message: &str) -> Value {
    let mut m = Map::new();
    m.insert("error".into(), Value::String(message.to_string()));
    Value::Object(m)
}

impl Faults {
    pub fn new(config: FaultConfig) -> Faults {
        let rng = match config.seed {
            Some(seed) => SmallRng::seed_from_u64(seed),
            None => SmallRng::seed_from_u64(rand::random()),
        };
        Faults {
            config: RwLock::new(config),
            rng: Mutex::new(rng),
        }
    }

    /// The settings now in force.
    pub fn config(&self) -> FaultConfig {
        self.config.read().expect("faults lock").clone()
    }

    pub fn live(&self) -> LiveFaults {
        LiveFaults::of(&self.config.read().expect("faults lock"))
    }

    /// Applies `POST /_emulator/faults`: all of the body or nothing.
    pub fn update(&self, body: &[u8]) -> Result<LiveFaults, String> {
        let mut config = self.config.write().expect("faults lock");
        let next = apply_patch(&config, body)?;
        *config = next;
        Ok(LiveFaults::of(&config))
    }

    pub fn retry_after_secs(&self) -> u64 {
        self.config.read().expect("faults lock").retry_after_secs
    }

    pub fn delay(&self) -> Duration {
        let c = self.config();
        if c.latency_jitter.is_zero() {
            return c.latency;
        }
        let jitter: f64 = self.rng.lock().expect("rng lock").random();
        c.latency + c.latency_jitter.mul_f64(jitter)
    }

    pub fn draw_drop(&self) -> DropFault {
        let drop_rate = self.config.read().expect("faults lock").drop_rate;
        if drop_rate <= 0.0 {
            return DropFault::None;
        }
        let mut rng = self.rng.lock().expect("rng lock");
        if !rng.random_bool(drop_rate) {
            DropFault::None
        } else if rng.random_bool(0.5) {
            DropFault::Before
        } else {
            DropFault::After
        }
    }

    pub fn draw_unit(&self) -> UnitFault {
        let c = self.config();
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
    fn live_changes_take_any_subset_and_refuse_bad_values_whole() {
        let faults = Faults::new(FaultConfig::default());
        let live = faults
            .update(br#"{"throttleRate": 0.3, "retryAfter": 2}"#)
            .unwrap();
        assert_eq!((live.throttle_rate, live.retry_after), (0.3, 2));
        assert_eq!(live.error_rate, 0.0);
        assert_eq!(faults.draw_drop(), DropFault::None);
        for bad in [
            &br#"{"errorRate": 1.5}"#[..],
            br#"{"dropRate": -0.1}"#,
            br#"{"retryAfter": 1.5}"#,
            br#"{"shoeSize": 1}"#,
            br#"[1]"#,
            br#"{"throttleRate": 0.1, "errorRate": "x"}"#,
            b"not json",
        ] {
            assert!(
                faults.update(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Nothing of a refused body was applied.
        assert_eq!(faults.live().throttle_rate, 0.3);
        // The rates together may not exceed 1 either.
        assert!(faults.update(br#"{"errorRate": 0.8}"#).is_err());
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
