//! Graph's write throttling as a token bucket: `limit` writes per `window`, refilled
//! continuously, starting full. Every write (a top-level PATCH or POST, or one `$batch`
//! item) takes a token whether or not it then succeeds, as Graph counts requests, not
//! changes. An empty bucket answers 429 with `Retry-After` in whole seconds, rounded up
//! so that a client that waits that long always finds a token.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The write quota; Graph's published default for a tenant is 3,000 writes per 150 s.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WriteQuota {
    pub limit: u32,
    pub window: Duration,
}

impl Default for WriteQuota {
    fn default() -> WriteQuota {
        WriteQuota {
            limit: 3000,
            window: Duration::from_secs(150),
        }
    }
}

impl WriteQuota {
    /// Sustained writes per second.
    pub fn rate(&self) -> f64 {
        f64::from(self.limit) / self.window.as_secs_f64()
    }
}

pub struct Throttle {
    quota: WriteQuota,
    state: Mutex<Bucket>,
}

struct Bucket {
    tokens: f64,
    refilled_at: Instant,
}

impl Throttle {
    pub fn new(quota: WriteQuota) -> Throttle {
        Throttle {
            quota,
            state: Mutex::new(Bucket {
                tokens: f64::from(quota.limit),
                refilled_at: Instant::now(),
            }),
        }
    }

    /// Takes one write token, or says how many whole seconds until one is available.
    pub fn try_take(&self) -> Result<(), u64> {
        self.try_take_at(Instant::now())
    }

    fn try_take_at(&self, now: Instant) -> Result<(), u64> {
        let mut b = self.state.lock().expect("throttle lock");
        let elapsed = now.saturating_duration_since(b.refilled_at).as_secs_f64();
        b.tokens = (b.tokens + elapsed * self.quota.rate()).min(f64::from(self.quota.limit));
        b.refilled_at = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            let wait = (1.0 - b.tokens) / self.quota.rate();
            Err((wait.ceil() as u64).max(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bucket_allows_limit_then_throttles_then_refills() {
        let t = Throttle::new(WriteQuota {
            limit: 3,
            window: Duration::from_secs(6),
        });
        let start = Instant::now();
        for _ in 0..3 {
            assert!(t.try_take_at(start).is_ok());
        }
        assert_eq!(t.try_take_at(start), Err(2));
        assert!(t.try_take_at(start + Duration::from_secs(2)).is_ok());
        assert!(t.try_take_at(start + Duration::from_secs(2)).is_err());
    }
}
