//! Client-side pacing of writes under Graph's quota, so a large apply runs at the quota's
//! rate instead of running into 429s: a token bucket shaped like the server's (burst of
//! `limit`, refilled at `limit / window`), one token per write attempt. Graph counts every
//! write request it receives, so counting every attempt keeps the client at or below it.
//!
//! Other applications share the tenant's quota, so 429s can still happen; then the whole
//! client pauses for `Retry-After` (the quota is tenant-wide: one 429 means every request
//! would get one), empties its bucket to match the server's, and slows down.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Refill at 95% of the quota's rate: requests take varying times to reach Graph, and a
/// later request arriving sooner than an earlier one would otherwise find the server's
/// bucket a fraction of a token short.
const HEADROOM: f64 = 0.95;

pub(crate) struct Pacer {
    capacity: f64,
    /// The slowest the pacer goes after repeated 429s: a tenth of the configured rate.
    min_rate: f64,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    rate: f64,
    refilled_at: Instant,
    paused_until: Instant,
    slowed_at: Option<Instant>,
}

impl Pacer {
    pub(crate) fn new(limit: u32, window: Duration) -> Pacer {
        let capacity = f64::from(limit.max(1));
        let rate = capacity / window.as_secs_f64().max(0.001) * HEADROOM;
        let now = Instant::now();
        Pacer {
            capacity,
            min_rate: rate / 10.0,
            state: Mutex::new(State {
                tokens: capacity,
                rate,
                refilled_at: now,
                paused_until: now,
                slowed_at: None,
            }),
        }
    }

    /// The largest number of writes one acquisition may ask for.
    pub(crate) fn burst(&self) -> u32 {
        self.capacity as u32
    }

    /// Waits until `n` writes may be sent, then takes them.
    pub(crate) async fn acquire(&self, n: u32) {
        let n = f64::from(n).min(self.capacity);
        loop {
            let wait = {
                let mut s = self.state.lock().expect("pacer lock");
                let now = Instant::now();
                if now < s.paused_until {
                    s.paused_until - now
                } else {
                    let elapsed = now.saturating_duration_since(s.refilled_at).as_secs_f64();
                    s.tokens = (s.tokens + elapsed * s.rate).min(self.capacity);
                    s.refilled_at = now;
                    if s.tokens >= n {
                        s.tokens -= n;
                        return;
                    }
                    Duration::from_secs_f64((n - s.tokens) / s.rate)
                }
            };
            tokio::time::sleep(wait.max(Duration::from_millis(1))).await;
        }
    }

    /// Graph said 429: pause everyone for `retry_after`, and slow down (at most once per
    /// pause, since all the items of one burst report the same throttling).
    pub(crate) fn throttled(&self, retry_after: Duration) {
        let mut s = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        s.tokens = 0.0;
        s.refilled_at = now + retry_after;
        s.paused_until = s.paused_until.max(now + retry_after);
        let recently = s.slowed_at.is_some_and(|t| {
            now.saturating_duration_since(t) < retry_after.max(Duration::from_secs(1))
        });
        if !recently {
            s.rate = (s.rate * 0.7).max(self.min_rate);
            s.slowed_at = Some(now);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bursts_then_paces_at_the_quota_rate() {
        let pacer = Pacer::new(20, Duration::from_secs(1));
        let start = Instant::now();
        pacer.acquire(20).await;
        assert!(start.elapsed() < Duration::from_millis(50));
        pacer.acquire(5).await;
        let waited = start.elapsed();
        assert!(waited >= Duration::from_millis(200), "{waited:?}");
    }

    #[tokio::test]
    async fn a_429_pauses_everyone() {
        let pacer = Pacer::new(100, Duration::from_secs(1));
        let start = Instant::now();
        pacer.throttled(Duration::from_millis(300));
        pacer.acquire(1).await;
        assert!(start.elapsed() >= Duration::from_millis(300));
    }
}
