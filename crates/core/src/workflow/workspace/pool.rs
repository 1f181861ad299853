//! Runs one job per tenant on at most N threads. Each job owns everything it touches (its
//! backend, token, pacer, lock and ledger), so jobs share nothing but the queue; a job that
//! fails or panics is that tenant's failure only. With `fail_fast`, no job starts after one
//! has failed (those already running finish: stopping a tenant mid-apply would leave it
//! half-applied).

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

/// What became of one job.
pub enum Ran<R> {
    Done(R),
    /// The job panicked; the message, for the report.
    Panicked(String),
    /// Not started: `fail_fast` and an earlier job failed.
    NotStarted,
}

/// Runs `job` on every item, `parallel` at a time, and returns the results in the items'
/// order. `failed` says whether a result counts as a failure (for `fail_fast`).
pub fn run<T: Sync, R: Send>(
    items: &[T],
    parallel: usize,
    fail_fast: bool,
    job: impl Fn(&T) -> R + Sync,
    failed: impl Fn(&R) -> bool + Sync,
) -> Vec<Ran<R>> {
    let next = AtomicUsize::new(0);
    let stop = AtomicBool::new(false);
    let results: Mutex<Vec<Option<Ran<R>>>> = Mutex::new((0..items.len()).map(|_| None).collect());
    std::thread::scope(|scope| {
        for _ in 0..parallel.clamp(1, items.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let i = next.fetch_add(1, Ordering::SeqCst);
                    let Some(item) = items.get(i) else { break };
                    let ran = if fail_fast && stop.load(Ordering::SeqCst) {
                        Ran::NotStarted
                    } else {
                        match catch_unwind(AssertUnwindSafe(|| job(item))) {
                            Ok(r) => {
                                if failed(&r) {
                                    stop.store(true, Ordering::SeqCst);
                                }
                                Ran::Done(r)
                            }
                            Err(panic) => {
                                stop.store(true, Ordering::SeqCst);
                                Ran::Panicked(
                                    panic
                                        .downcast_ref::<String>()
                                        .cloned()
                                        .or_else(|| {
                                            panic.downcast_ref::<&str>().map(|s| s.to_string())
                                        })
                                        .unwrap_or_else(|| "a panic".into()),
                                )
                            }
                        }
                    };
                    results.lock().expect("results lock")[i] = Some(ran);
                }
            });
        }
    });
    results
        .into_inner()
        .expect("results lock")
        .into_iter()
        .map(|r| r.unwrap_or(Ran::NotStarted))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_keep_order_and_one_failure_stops_only_with_fail_fast() {
        let items: Vec<u32> = (0..20).collect();
        let all = run(&items, 4, false, |i| *i * 2, |r| *r == 10);
        let done: Vec<u32> = all
            .iter()
            .map(|r| match r {
                Ran::Done(v) => *v,
                _ => 999,
            })
            .collect();
        assert_eq!(done, (0..20).map(|i| i * 2).collect::<Vec<_>>());
        let fast = run(&items, 1, true, |i| *i, |r| *r == 3);
        assert!(matches!(fast[3], Ran::Done(3)));
        assert!(fast[4..].iter().all(|r| matches!(r, Ran::NotStarted)));
        let panics = run(
            &items[..3],
            2,
            false,
            |i| if *i == 1 { panic!("boom") } else { *i },
            |_| false,
        );
        assert!(matches!(&panics[1], Ran::Panicked(m) if m == "boom"));
        assert!(matches!(panics[2], Ran::Done(2)));
    }
}
