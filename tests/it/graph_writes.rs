//! The graph backend's write path seen from the wire: a small recording proxy on
//! 127.0.0.1:0 sits between the client and the emulator, keeps every `$batch` the client
//! sends, and can answer writes with 429s (before or after forwarding them), which the
//! emulator cannot do by itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use commcred::apply::apply;
use commcred::backend::Backend;
use commcred::backend::graph::{GraphBackend, GraphOptions};
use commcred::config::DesiredState;
use commcred::plan::{Plan, UsageLocationChange};
use commcred_emulator::Emulator;
use serde_json::{Value, json};

use crate::emulator::{MCOMEETADV, rules_tenant, start, write_tenant};
use crate::graph::{
    SECRET, all_users, assert_applied_all, backend_at, ctx, desired, hand_plan, now,
    quickstart_without_credits, sku, with_graph_env,
};

/// What the proxy does to `$batch` requests that carry writes.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Fault {
    None,
    /// Forward the next N write batches (Graph applies them), then answer 429 anyway.
    ThrottleAfterForward(usize),
    /// Answer every write batch 429 without forwarding it: throttling that never ends.
    ThrottleWrites,
}

#[derive(Clone)]
struct ProxyState {
    upstream: String,
    http: reqwest::Client,
    batches: Arc<Mutex<Vec<Value>>>,
    fault: Arc<Mutex<Fault>>,
    /// Batches the proxy answered 429.
    throttled: Arc<Mutex<usize>>,
    retry_after: &'static str,
}

struct Proxy {
    url: String,
    state: ProxyState,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl Proxy {
    fn start(upstream: String, fault: Fault, retry_after: &'static str) -> Proxy {
        let state = ProxyState {
            upstream,
            http: reqwest::Client::new(),
            batches: Arc::default(),
            fault: Arc::new(Mutex::new(fault)),
            throttled: Arc::default(),
            retry_after,
        };
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(state.clone());
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        Proxy {
            url: format!("http://{addr}"),
            state,
            stop: Some(stop),
        }
    }

    fn batches(&self) -> Vec<Value> {
        self.state.batches.lock().unwrap().clone()
    }

    fn throttled(&self) -> usize {
        *self.state.throttled.lock().unwrap()
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

fn requests(batch: &Value) -> &[Value] {
    batch["requests"].as_array().map_or(&[], Vec::as_slice)
}

fn carries_writes(batch: &Value) -> bool {
    requests(batch).iter().any(|r| r["method"] != "GET")
}

fn throttled_answer(retry_after: &'static str) -> Response {
    let body =
        json!({"error": {"code": "TooManyRequests", "message": "Please retry again later."}});
    let mut response = (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
    response
        .headers_mut()
        .insert("retry-after", HeaderValue::from_static(retry_after));
    response
}

async fn forward(
    State(st): State<ProxyState>,
    method: Method,
    uri: Uri,
    mut headers: HeaderMap,
    body: Bytes,
) -> Response {
    let batch: Option<Value> = uri
        .path()
        .ends_with("/$batch")
        .then(|| serde_json::from_slice(&body).ok())
        .flatten();
    let writes = batch.as_ref().is_some_and(carries_writes);
    if let Some(b) = batch {
        st.batches.lock().unwrap().push(b);
    }
    let fault = *st.fault.lock().unwrap();
    let throttle_after = match fault {
        Fault::ThrottleWrites if writes => {
            *st.throttled.lock().unwrap() += 1;
            return throttled_answer(st.retry_after);
        }
        Fault::ThrottleAfterForward(n) if writes && n > 0 => {
            *st.fault.lock().unwrap() = Fault::ThrottleAfterForward(n - 1);
            true
        }
        _ => false,
    };
    headers.remove("host");
    headers.remove("content-length");
    let url = format!(
        "{}{}",
        st.upstream,
        uri.path_and_query().map_or("/", |p| p.as_str())
    );
    let upstream = st
        .http
        .request(method, url)
        .headers(headers)
        .body(body)
        .send()
        .await;
    let Ok(upstream) = upstream else {
        return StatusCode::BAD_GATEWAY.into_response();
    };
    let status = upstream.status();
    let content_type = upstream.headers().get("content-type").cloned();
    let bytes = upstream.bytes().await.unwrap_or_default();
    if throttle_after {
        *st.throttled.lock().unwrap() += 1;
        return throttled_answer(st.retry_after);
    }
    let mut response = (status, bytes).into_response();
    if let Some(ct) = content_type {
        response.headers_mut().insert("content-type", ct);
    }
    response
}

/// Graph's rule for `$batch`: no item depends on another (parallel), or each item but
/// the first depends on exactly the one before it (one sequential chain).
fn is_parallel_or_one_chain(batch: &Value) -> bool {
    let items = requests(batch);
    let parallel = items.iter().all(|r| r.get("dependsOn").is_none());
    let chain = items.iter().enumerate().all(|(k, r)| match k {
        0 => r.get("dependsOn").is_none(),
        _ => r["dependsOn"] == json!([items[k - 1]["id"]]),
    });
    parallel || chain
}

/// A synthetic tenant of `users` users served by the emulator behind a proxy doing
/// `fault`, a graph backend through the proxy, and the plan giving every user a change.
struct Rig {
    _dir: tempfile::TempDir,
    emulator: Emulator,
    proxy: Proxy,
    graph: GraphBackend,
    desired: DesiredState,
    plan: Plan,
}

fn rig(
    users: usize,
    fault: Fault,
    retry_after: &'static str,
    tweak: impl FnOnce(&mut GraphOptions),
) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &crate::testkit::tenant(users, 42));
    let emulator = start(&path, |_| {});
    let proxy = Proxy::start(emulator.base_url(), fault, retry_after);
    let mut graph = backend_at(&proxy.url, tweak);
    let desired = desired(users, all_users);
    let plan = commcred::plan::plan(&desired, &graph.read().unwrap(), now()).unwrap();
    Rig {
        _dir: dir,
        emulator,
        proxy,
        graph,
        desired,
        plan,
    }
}

#[test]
fn graph_every_batch_is_parallel_or_one_chain_and_locations_go_first() {
    let mut r = rig(120, Fault::None, "1", |_| {});
    let report = apply(&mut r.graph, &r.plan, &ctx()).unwrap();
    assert_applied_all(&report, &r.plan);

    let batches = r.proxy.batches();
    assert!(batches.iter().any(carries_writes));
    for batch in &batches {
        assert!(is_parallel_or_one_chain(batch), "{batch:#}");
        let mut users: Vec<&str> = requests(batch)
            .iter()
            .filter_map(|r| r["url"].as_str()?.split('/').nth(2))
            .collect();
        let n = users.len();
        users.sort();
        users.dedup();
        assert_eq!(users.len(), n, "one request per user in a batch: {batch:#}");
    }
    // Every user's location PATCH was sent before its assignLicense.
    let (mut patched, mut licensed) = (HashMap::new(), HashMap::new());
    for (k, batch) in batches.iter().enumerate() {
        for r in requests(batch) {
            let url = r["url"].as_str().unwrap().to_string();
            match r["method"].as_str() {
                Some("PATCH") => patched.entry(url).or_insert(k),
                Some("POST") => licensed
                    .entry(url.trim_end_matches("/assignLicense").to_string())
                    .or_insert(k),
                _ => continue,
            };
        }
    }
    let both: Vec<_> = patched
        .iter()
        .filter_map(|(user, p)| Some((*p, *licensed.get(user)?)))
        .collect();
    assert!(!both.is_empty(), "the plan sets locations and licenses");
    assert!(both.iter().all(|(p, l)| p < l), "{both:?}");
    let again = commcred::plan::plan(&r.desired, &r.graph.read().unwrap(), now()).unwrap();
    assert!(!again.has_changes());
}

#[test]
fn graph_a_refused_location_skips_the_users_licenses_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &rules_tenant());
    let emulator = start(&path, |_| {});
    let mut graph = crate::graph::backend(&emulator, |_| {});
    let live = graph.read().unwrap();
    // bob has no location; `ZZ` is no country, so Graph refuses the PATCH.
    let mut plan: Plan = hand_plan(
        &live,
        1,
        vec![sku(MCOMEETADV, "MCOMEETADV", Some("audioConferencing"))],
        vec![],
    );
    plan.users[0].usage_location = Some(UsageLocationChange {
        from: None,
        to: "ZZ".into(),
    });
    let report = apply(&mut graph, &plan, &ctx()).unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.failed.len(), 2, "{:#?}", report.failed);
    let license = report
        .failed
        .iter()
        .find(|(op, _)| matches!(op, commcred::plan::Operation::AssignLicenses { .. }))
        .unwrap();
    assert!(
        license
            .1
            .starts_with("bob@contoso.com: not sent: the user's usage location could not be set"),
        "{}",
        license.1
    );
    // Only the PATCH reached Graph.
    assert_eq!(emulator.stats().writes, 1);
}

#[test]
fn graph_a_429_on_a_write_that_was_applied_is_read_back_and_counted_as_applied() {
    // The first three write batches reach Graph, which applies them; the client is told 429.
    let mut r = rig(60, Fault::ThrottleAfterForward(3), "0.2", |_| {});
    let report = apply(&mut r.graph, &r.plan, &ctx()).unwrap();
    assert_eq!(r.proxy.throttled(), 3);
    assert_applied_all(&report, &r.plan);
    let stats = r.emulator.stats();
    assert_eq!(stats.effective_changes, r.plan.operations().len() as u64);
    // Nothing was sent twice: the users were read back and found done.
    assert_eq!(stats.users_changed_more_than_once, 0, "{stats:?}");
    assert_eq!(stats.noop_writes, 0, "{stats:?}");
    assert_eq!(stats.refused_writes, 0, "{stats:?}");
    assert_eq!(stats.writes, r.plan.operations().len() as u64, "{stats:?}");
}

#[test]
fn graph_persistent_429s_stop_the_apply_with_a_report_instead_of_retrying_for_ever() {
    // A quota large enough that the pacer's own slowing down does not make the test slow.
    let mut r = rig(30, Fault::ThrottleWrites, "0.05", |o| {
        o.quota_writes = 100_000;
        o.quota_window = Duration::from_secs(10);
    });
    let report = apply(&mut r.graph, &r.plan, &ctx()).unwrap();
    let stopped = report.stopped.as_deref().unwrap_or_default();
    assert!(stopped.contains("kept throttling"), "{report:#?}");
    assert!(report.applied.is_empty());
    assert_eq!(
        report.failed.len() + report.not_attempted.len(),
        r.plan.operations().len()
    );
    // What was sent was read back: known not to be in place.
    assert!(
        report
            .failed
            .iter()
            .all(|(_, why)| why.contains("not applied") && why.contains("read back")),
        "{:#?}",
        report.failed
    );
    assert_eq!(r.emulator.stats().writes, 0);
}

#[test]
fn graph_cli_apply_timeout_under_permanent_throttling_ends_by_the_deadline_with_a_report() {
    let dir = quickstart_without_credits();
    let tenant = dir.path().join("tenant.json");
    let emulator = crate::emulator::spawn_binary(&["--tenant", tenant.to_str().unwrap()], &[]);
    let proxy = Proxy::start(emulator.url.clone(), Fault::ThrottleWrites, "1");
    let before = std::fs::read(&tenant).unwrap();
    let mut apply = crate::common::commcred(dir.path());
    with_graph_env(&mut apply, &proxy.url, SECRET);
    let started = Instant::now();
    let out = apply
        .args(["apply", "--auto-approve", "--timeout", "4s", "-v"])
        .output()
        .unwrap();
    let took = started.elapsed();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    // The deadline counts from the start of `apply`; a little slack for a loaded machine.
    assert!(took < Duration::from_secs(7), "{took:?}");
    assert!(
        stdout.contains("Stopped early: the apply's deadline passed"),
        "{stdout}"
    );
    assert!(stderr.contains("commcred::apply::stopped"), "{stderr}");
    // `-v` logs each pause with its cause.
    assert!(
        stderr.contains("pausing every write: Microsoft Graph answered 429 to a $batch"),
        "{stderr}"
    );
    assert!(proxy.throttled() > 0);
    drop(emulator);
    assert_eq!(
        std::fs::read(&tenant).unwrap(),
        before,
        "nothing was applied"
    );
}
