//! Client-side pacing of writes under Graph's write quota, following Graph's signals.
//!
//! Graph's identity and access service (users, `assignLicense`) allows an application
//! 3,000 writes per 150 s *in one tenant* (the quota is per application per tenant; the
//! tenant as a whole has a separate, higher ceiling shared by all its applications; see
//! "Microsoft Graph service-specific throttling limits", identity and access service
//! limits). The pacer is a token bucket shaped like that quota — a burst of `limit`, then
//! `limit / window` — taking one token per write attempt, so a large apply runs at the
//! quota's rate instead of running into 429s.
//!
//! Other applications share the tenant's ceiling, so 429s still happen. The policy
//! (written out with its sources in docs/graph.md, "Pacing"):
//! - a 429 on one `$batch` item is that item's business: it waits its own `Retry-After`
//!   (the engine does that) and everything else goes on at the same rate;
//! - throttling that is not isolated — the `$batch` request itself answered 429, or most
//!   items of one batch — means the quota is spent: everyone pauses for the `Retry-After`,
//!   the bucket is emptied (the server's is), and the rate drops by 30 % (multiplicative
//!   decrease, at most once per pause, never below a tenth of the quota);
//! - while writes succeed the rate climbs back additively, by the full quota rate per half
//!   window of successful sending, up to the configured quota (additive increase), so a
//!   burst of throttling early in a long apply costs a little time, not the rest of the run.
//!
//! The pacer never stalls: a pause lasts one `Retry-After` (capped at ten minutes where it
//! is parsed), and the rate never goes below its floor.

use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// Refill at 95% of the quota's rate: requests take varying times to reach Graph, and a
/// later request arriving sooner than an earlier one would otherwise find the server's
/// bucket a fraction of a token short.
const HEADROOM: f64 = 0.95;
/// The multiplicative decrease on throttling that is not isolated.
const DECREASE: f64 = 0.7;
/// The slowest the pacer goes: this fraction of the configured rate.
const FLOOR: f64 = 0.1;

/// Why every write is paused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PauseCause {
    /// Graph answered 429 to the `$batch` request itself.
    BatchThrottled,
    /// Most items of one batch were answered 429.
    MostItemsThrottled { throttled: usize, of: usize },
}

impl std::fmt::Display for PauseCause {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PauseCause::BatchThrottled => write!(f, "Microsoft Graph answered 429 to a $batch"),
            PauseCause::MostItemsThrottled { throttled, of } => {
                write!(f, "{throttled} of {of} writes in a $batch answered 429")
            }
        }
    }
}

/// A pause every write is waiting out.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pause {
    pub left: Duration,
    pub cause: PauseCause,
}

/// What one `$batch` of writes came back with.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct BatchSignal {
    /// Write items sent.
    pub items: usize,
    /// Items answered 2xx.
    pub succeeded: usize,
    /// Items answered 429, and the longest `Retry-After` among them.
    pub throttled: usize,
    pub retry_after: Option<Duration>,
}

pub(crate) struct Pacer {
    capacity: f64,
    max_rate: f64,
    min_rate: f64,
    /// Time of successful sending to climb from nothing back to the full rate.
    recovery: Duration,
    state: Mutex<State>,
}

struct State {
    tokens: f64,
    rate: f64,
    refilled_at: Instant,
    paused_until: Instant,
    cause: Option<PauseCause>,
    /// Successful sending since this instant has not yet raised the rate.
    raised_at: Instant,
}

impl Pacer {
    pub(crate) fn new(limit: u32, window: Duration) -> Pacer {
        let capacity = f64::from(limit.max(1));
        let max_rate = capacity / window.as_secs_f64().max(0.001) * HEADROOM;
        let now = Instant::now();
        Pacer {
            capacity,
            max_rate,
            min_rate: max_rate * FLOOR,
            recovery: window / 2,
            state: Mutex::new(State {
                tokens: capacity,
                rate: max_rate,
                refilled_at: now,
                paused_until: now,
                cause: None,
                raised_at: now,
            }),
        }
    }

    /// The largest number of writes one acquisition may ask for.
    pub(crate) fn burst(&self) -> u32 {
        self.capacity as u32
    }

    /// The rate writes are sent at now, in writes per second.
    pub(crate) fn rate(&self) -> f64 {
        self.state.lock().expect("pacer lock").rate
    }

    /// The rate the configured quota allows (less the headroom), in writes per second.
    pub(crate) fn max_rate(&self) -> f64 {
        self.max_rate
    }

    /// The pause every write is waiting out now, if any.
    pub(crate) fn pause(&self) -> Option<Pause> {
        let s = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        let cause = s.cause.filter(|_| s.paused_until > now)?;
        Some(Pause {
            left: s.paused_until - now,
            cause,
        })
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

    /// Reads one batch's answers: successes raise the rate; throttling of most of the
    /// batch pauses everyone; isolated item 429s change nothing here (those items wait
    /// their own `Retry-After`). Returns the pause it started, if any.
    pub(crate) fn report(&self, signal: BatchSignal) -> Option<PauseCause> {
        if signal.throttled > 0 && signal.throttled * 2 > signal.items {
            let cause = PauseCause::MostItemsThrottled {
                throttled: signal.throttled,
                of: signal.items,
            };
            self.pause_all(signal.retry_after, cause);
            return Some(cause);
        }
        if signal.succeeded > 0 {
            self.raise();
        }
        None
    }

    /// The `$batch` request itself was answered 429: pause everyone.
    pub(crate) fn batch_throttled(&self, retry_after: Option<Duration>) {
        self.pause_all(retry_after, PauseCause::BatchThrottled);
    }

    /// Additive increase: the rate climbs by the full rate per `recovery` of successful
    /// sending (time spent paused does not count).
    fn raise(&self) {
        let mut s = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        let since = now.saturating_duration_since(s.raised_at);
        s.raised_at = now.max(s.raised_at);
        if s.rate >= self.max_rate {
            return;
        }
        // A long quiet gap (no batch answered) is not evidence the quota has room.
        let since = since.min(self.recovery / 5).as_secs_f64();
        let step = self.max_rate * since / self.recovery.as_secs_f64().max(0.001);
        // Bank the tokens earned at the old rate before changing it.
        let elapsed = now.saturating_duration_since(s.refilled_at).as_secs_f64();
        s.tokens = (s.tokens + elapsed * s.rate).min(self.capacity);
        s.refilled_at = now.max(s.refilled_at);
        s.rate = (s.rate + step).min(self.max_rate);
    }

    /// Pauses everyone for `retry_after`, empties the bucket (the server's is), and
    /// slows down, at most once per pause: all the batches in flight during one throttling
    /// episode report it, and it is one signal.
    fn pause_all(&self, retry_after: Option<Duration>, cause: PauseCause) {
        let wait = retry_after.unwrap_or(Duration::from_secs(1));
        let mut s = self.state.lock().expect("pacer lock");
        let now = Instant::now();
        let already = s.paused_until > now;
        let until = s.paused_until.max(now + wait);
        s.tokens = 0.0;
        s.refilled_at = until;
        s.raised_at = until;
        s.paused_until = until;
        s.cause = Some(cause);
        if !already {
            s.rate = (s.rate * DECREASE).max(self.min_rate);
            tracing::info!(
                pause_secs = wait.as_secs_f64(),
                rate = format!("{:.1}/s", s.rate),
                "pausing every write: {cause}"
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Graph's default quota: 3,000 writes per 150 s.
    fn graph_quota() -> Pacer {
        Pacer::new(3000, Duration::from_secs(150))
    }

    fn ok(items: usize) -> BatchSignal {
        BatchSignal {
            items,
            succeeded: items,
            ..BatchSignal::default()
        }
    }

    fn throttled(items: usize, throttled: usize) -> BatchSignal {
        BatchSignal {
            items,
            succeeded: items - throttled,
            throttled,
            retry_after: Some(Duration::from_secs(1)),
        }
    }

    /// Graph's side of the quota, as "Microsoft Graph service-specific throttling limits"
    /// describes it: `limit` writes per `window`, a write without a token answered 429.
    /// Modelled as a token bucket like the pacer's own, at the full rate (no headroom).
    struct Server {
        tokens: f64,
        capacity: f64,
        rate: f64,
        at: Instant,
        /// Writes this server answered 429 (the quota was spent).
        throttled: u64,
    }

    impl Server {
        fn new(limit: u32, window: Duration) -> Server {
            Server {
                tokens: f64::from(limit),
                capacity: f64::from(limit),
                rate: f64::from(limit) / window.as_secs_f64(),
                at: Instant::now(),
                throttled: 0,
            }
        }

        /// Graph's default quota, with its burst already spent (as after `acquire(3000)`).
        fn graph_spent() -> Server {
            let mut s = Server::new(3000, Duration::from_secs(150));
            s.tokens = 0.0;
            s
        }

        /// How many of `n` writes the quota accepts now.
        fn admit(&mut self, n: usize) -> usize {
            let now = Instant::now();
            self.tokens =
                (self.tokens + (now - self.at).as_secs_f64() * self.rate).min(self.capacity);
            self.at = now;
            // A hair of tolerance for float rounding at the token boundary.
            let ok = (self.tokens + 1e-6).floor().max(0.0) as usize;
            let ok = ok.min(n);
            self.tokens -= ok as f64;
            self.throttled += (n - ok) as u64;
            ok
        }
    }

    /// What a drive sent, and what Graph accepted of it.
    #[derive(Debug, Default)]
    struct Sent {
        sent: u64,
        accepted: u64,
    }

    /// Sends batches of 20 for `span`, answering each with `answer(batch number)` and then
    /// Graph's quota (`server`): items `answer` lets through but the quota has no token for
    /// are answered 429 too. Counts only the writes accepted as done.
    async fn drive(
        pacer: &Pacer,
        server: &mut Server,
        span: Duration,
        mut answer: impl FnMut(u64) -> BatchSignal,
    ) -> Sent {
        let end = Instant::now() + span;
        let mut out = Sent::default();
        let mut n = 0;
        while Instant::now() < end {
            pacer.acquire(20).await;
            out.sent += 20;
            n += 1;
            let mut signal = answer(n);
            let ok = server.admit(signal.succeeded);
            signal.throttled += signal.succeeded - ok;
            signal.succeeded = ok;
            out.accepted += ok as u64;
            pacer.report(signal);
        }
        out
    }

    /// The most a pacer keeping to the quota can send in `span` from an empty bucket: the
    /// quota's rate for the span, plus the one batch in flight at the end.
    fn at_most(span: Duration) -> u64 {
        (span.as_secs_f64() * 3000.0 / 150.0) as u64 + 20
    }

    #[tokio::test(start_paused = true)]
    async fn bursts_then_paces_at_the_quota_rate() {
        let pacer = Pacer::new(20, Duration::from_secs(1));
        let start = Instant::now();
        pacer.acquire(20).await;
        assert!(start.elapsed() < Duration::from_millis(50));
        pacer.acquire(5).await;
        let waited = start.elapsed();
        // 5 tokens at 19/s (the quota's 20/s less the headroom): 263 ms; never sooner than
        // the quota's own 250 ms, and not much later either.
        assert!(waited >= Duration::from_millis(250), "{waited:?}");
        assert!(waited <= Duration::from_millis(300), "{waited:?}");
    }

    #[tokio::test(start_paused = true)]
    async fn sustained_sending_stays_within_the_quota_and_is_all_accepted() {
        let pacer = graph_quota();
        let mut server = Server::new(3000, Duration::from_secs(150));
        let span = Duration::from_secs(600);
        let sent = drive(&pacer, &mut server, span, |_| ok(20)).await;
        // The burst, then the quota's rate: no more...
        assert!(
            sent.sent <= 3000 + at_most(span),
            "{} writes sent in {span:?}",
            sent.sent
        );
        assert_eq!(server.throttled, 0, "the pacer ran into Graph's quota");
        // ...and not much less (the headroom is 5 %).
        assert!(
            sent.accepted as f64 >= 0.93 * (3000 + at_most(span)) as f64,
            "{sent:?}"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn sporadic_429s_keep_the_long_run_rate_above_70_percent_of_the_quota() {
        let pacer = graph_quota();
        let mut server = Server::graph_spent();
        let window = Duration::from_secs(150);
        // Spend the initial burst so that only the sustained rate is measured.
        pacer.acquire(3000).await;
        // One item in ten answered 429 (isolated), and once a minute a batch mostly
        // throttled (another app touching the tenant's ceiling).
        let mut last_bad = Instant::now();
        let sent = drive(&pacer, &mut server, window * 10, |n| {
            if last_bad.elapsed() >= Duration::from_secs(60) {
                last_bad = Instant::now();
                throttled(20, 15)
            } else {
                throttled(20, usize::from(n % 5 == 0) * 2)
            }
        })
        .await;
        let quota_rate = 3000.0 / 150.0;
        let achieved = sent.accepted as f64 / (window * 10).as_secs_f64();
        assert!(
            achieved >= 0.7 * quota_rate,
            "{achieved:.2} writes/s accepted against a quota of {quota_rate}/s"
        );
        assert!(sent.sent <= at_most(window * 10), "{sent:?}");
        assert_eq!(server.throttled, 0, "the pacer ran into Graph's quota");
    }

    #[tokio::test(start_paused = true)]
    async fn after_a_burst_of_429s_the_rate_is_back_within_two_windows() {
        let pacer = graph_quota();
        let mut server = Server::graph_spent();
        let window = Duration::from_secs(150);
        pacer.acquire(3000).await;
        // A minute of throttling: every batch mostly 429.
        drive(&pacer, &mut server, Duration::from_secs(60), |_| {
            throttled(20, 20)
        })
        .await;
        assert!(
            pacer.rate() <= pacer.max_rate() * 0.2,
            "the burst slowed the pacer down: {}",
            pacer.rate()
        );
        // The burst ends: everything succeeds. The first window recovers...
        drive(&pacer, &mut server, window, |_| ok(20)).await;
        // ...and in the second Graph accepts 90 % of the quota or more, and nothing more
        // than the quota allows is sent.
        let sent = drive(&pacer, &mut server, window, |_| ok(20)).await;
        assert!(
            sent.accepted as f64 >= 0.9 * 3000.0,
            "{sent:?} in the second window after the burst"
        );
        assert!(sent.sent <= 3000 + 20, "{sent:?} in one window");
        assert_eq!(server.throttled, 0, "the pacer ran into Graph's quota");
        assert!(pacer.rate() >= 0.9 * 20.0, "{}", pacer.rate());
        assert!(pacer.rate() <= 20.0, "{}", pacer.rate());
    }

    #[tokio::test(start_paused = true)]
    async fn a_429_on_the_batch_request_pauses_all_sending() {
        let pacer = std::sync::Arc::new(Pacer::new(100, Duration::from_secs(1)));
        let start = Instant::now();
        pacer.batch_throttled(Some(Duration::from_secs(3)));
        let pause = pacer.pause().expect("paused");
        assert_eq!(pause.cause, PauseCause::BatchThrottled);
        let mut senders = tokio::task::JoinSet::new();
        for _ in 0..4 {
            let pacer = pacer.clone();
            senders.spawn(async move {
                pacer.acquire(1).await;
                start.elapsed()
            });
        }
        while let Some(waited) = senders.join_next().await {
            let waited = waited.unwrap();
            assert!(waited >= Duration::from_secs(3), "{waited:?}");
        }
    }

    #[tokio::test(start_paused = true)]
    async fn an_isolated_item_429_pauses_nobody_and_most_items_throttled_pauses_everyone() {
        let pacer = Pacer::new(100, Duration::from_secs(1));
        assert_eq!(pacer.report(throttled(20, 3)), None);
        assert!(pacer.pause().is_none());
        let start = Instant::now();
        pacer.acquire(1).await;
        assert!(start.elapsed() < Duration::from_millis(10));
        let before = pacer.rate();
        let cause = pacer.report(throttled(20, 11));
        assert_eq!(
            cause,
            Some(PauseCause::MostItemsThrottled {
                throttled: 11,
                of: 20
            })
        );
        assert!(pacer.rate() < before);
        // A second report of the same episode does not slow down twice.
        let after_one = pacer.rate();
        pacer.report(throttled(20, 20));
        assert_eq!(pacer.rate(), after_one);
        pacer.acquire(1).await;
        assert!(start.elapsed() >= Duration::from_secs(1));
    }

    #[tokio::test(start_paused = true)]
    async fn the_rate_never_falls_below_a_tenth_of_the_quota() {
        let pacer = Pacer::new(100, Duration::from_secs(10));
        for _ in 0..50 {
            pacer.batch_throttled(Some(Duration::from_millis(10)));
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!((pacer.rate() - pacer.max_rate() * FLOOR).abs() < 1e-9);
    }
}
