//! The graph backend against the emulator on 127.0.0.1:0: same end state as the file
//! backend, paging, pacing under the quota, faults, Graph's refusals, staleness, credits as
//! manual steps, and secrets kept out of every output and file.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use commcred::apply::{ApplyContext, ApplyError, ApplyReport, apply};
use commcred::backend::Backend;
use commcred::backend::file::FileBackend;
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, RetryPolicy, Secret};
use commcred::base::licenses::{Friendly, LicenseName};
use commcred::config::{DesiredState, DesiredUser, Origin};
use commcred::plan::{
    AutoRechargeTarget, CreditsChange, ObservedCredits, Operation, Plan, SkuRef, UserChange, plan,
};
use commcred::tenant::{BillingAccountType, Snapshot};
use commcred_emulator::Emulator;
use serde_json::Value;

use crate::emulator::{
    MCOEV, MCOPSTN1, TENANT_DOMAIN, read_tenant, rules_tenant, start, write_tenant,
};

use Friendly::*;

pub(crate) const SECRET: &str = "s3cr3t-Do-Not-Print-7f4a9";

pub(crate) fn now() -> DateTime<Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

pub(crate) fn ctx() -> ApplyContext {
    ApplyContext::new(now())
}

/// A graph backend for `emulator`, with short retry delays so tests stay quick.
pub(crate) fn backend(emulator: &Emulator, tweak: impl FnOnce(&mut GraphOptions)) -> GraphBackend {
    backend_at(&emulator.base_url(), tweak)
}

/// [`backend`] for any Graph root (a proxy in front of the emulator).
pub(crate) fn backend_at(url: &str, tweak: impl FnOnce(&mut GraphOptions)) -> GraphBackend {
    let credentials =
        Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new(SECRET));
    let mut options = GraphOptions::new(Some(url), credentials);
    options.retry = RetryPolicy {
        max_attempts: 12,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(300),
    };
    tweak(&mut options);
    GraphBackend::new(options).unwrap()
}

/// The desired state: user N of the synthetic tenant wants `wants(N)`.
pub(crate) fn desired(
    users: usize,
    wants: impl Fn(usize) -> Option<&'static [Friendly]>,
) -> DesiredState {
    let origin = Origin {
        file: std::path::Path::new("commcred.yaml").into(),
        line: 1,
        column: 1,
    };
    DesiredState {
        config_path: PathBuf::from("commcred.yaml"),
        digest: "0".repeat(64),
        tenant: TENANT_DOMAIN.into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: Some("US".into()),
        billing_account: None,
        credits: None,
        users: (0..users)
            .filter_map(|n| {
                wants(n).map(|w| DesiredUser {
                    phone: None,
                    upn: format!("user{n}@contoso.com"),
                    usage_location: None,
                    licenses: w.iter().map(|f| LicenseName::Friendly(*f)).collect(),
                    origin: origin.clone(),
                })
            })
            .collect(),
        prune: false,
        groups: Default::default(),
        prices: None,
    }
}

/// Valid license sets, so every user of the synthetic tenant gets a change of some kind:
/// additions, removals, calling-plan swaps, usage locations.
const WANTS: &[&[Friendly]] = &[
    &[AudioConferencing],
    &[AudioConferencing, CommunicationsCredits],
    &[PhoneSystem],
    &[PhoneSystem, DomesticCallingPlan, CommunicationsCredits],
    &[PhoneSystem, InternationalCallingPlan, CommunicationsCredits],
    &[],
];

pub(crate) fn all_users(n: usize) -> Option<&'static [Friendly]> {
    Some(WANTS[n % WANTS.len()])
}

/// The parts of a tenant an apply changes: users and seat counts.
pub(crate) fn license_state(s: &Snapshot) -> (Value, Vec<i64>) {
    (
        serde_json::to_value(&s.users).unwrap(),
        s.subscribed_skus.iter().map(|k| k.consumed_units).collect(),
    )
}

pub(crate) fn assert_applied_all(report: &ApplyReport, plan: &Plan) {
    assert!(
        report.failed.is_empty(),
        "failed: {:#?}",
        &report.failed[..report.failed.len().min(3)]
    );
    assert!(report.not_attempted.is_empty());
    assert_eq!(report.applied.len(), plan.operations().len());
}

/// Applies the same plan to copies of one tenant through the file backend and through
/// the emulator; returns (file result, emulator result, the plan, the emulator's stats).
pub(crate) fn apply_both(
    tenant: &Snapshot,
    desired: &DesiredState,
    configure: impl FnOnce(&mut commcred_emulator::EmulatorConfig),
    tweak: impl FnOnce(&mut GraphOptions),
) -> (
    Snapshot,
    Snapshot,
    Plan,
    commcred_emulator::StatsSnapshot,
    ApplyReport,
) {
    let file_dir = tempfile::tempdir().unwrap();
    let file_path = write_tenant(file_dir.path(), tenant);
    let mut file = FileBackend::new(&file_path);
    let file_plan = plan(desired, &file.read().unwrap(), now()).unwrap();
    let file_report = apply(&mut file, &file_plan, &ctx()).unwrap();
    assert_applied_all(&file_report, &file_plan);

    let emu_dir = tempfile::tempdir().unwrap();
    let emu_path = write_tenant(emu_dir.path(), tenant);
    let emulator = start(&emu_path, configure);
    let mut graph = backend(&emulator, tweak);
    let live = graph.read().unwrap();
    let graph_plan = plan(desired, &live, now()).unwrap();
    assert_eq!(
        graph_plan.operations(),
        file_plan.operations(),
        "the same tenant read through Graph plans the same changes"
    );
    let report = apply(&mut graph, &graph_plan, &ctx()).unwrap();
    assert_applied_all(&report, &graph_plan);
    // Acknowledged writes are already on disk, before the emulator stops.
    let on_disk = read_tenant(&emu_path);
    let again = plan(desired, &graph.read().unwrap(), now()).unwrap();
    assert!(
        !again.has_changes(),
        "planning again after apply finds nothing"
    );
    let stats = emulator.stats();
    emulator.shutdown().unwrap();
    (read_tenant(&file_path), on_disk, graph_plan, stats, report)
}

fn changes_in(plan: &Plan) -> u64 {
    plan.operations().len() as u64
}

#[test]
fn graph_apply_ends_in_the_same_tenant_as_the_file_backend() {
    let tenant = crate::testkit::tenant(120, 42);
    let (file, graph, plan, stats, _) =
        apply_both(&tenant, &desired(120, all_users), |_| {}, |_| {});
    assert_eq!(license_state(&graph), license_state(&file));
    let ops = plan.operations();
    assert!(
        ops.iter()
            .any(|o| matches!(o, Operation::SetUsageLocation { .. }))
    );
    assert!(ops.iter().any(
        |o| matches!(o, Operation::AssignLicenses { add, remove, .. } if !add.is_empty() && !remove.is_empty())
    ));
    assert_eq!(stats.effective_changes, changes_in(&plan));
    assert_eq!(stats.users_changed_more_than_once, 0);
    assert_eq!(stats.refused_writes, 0);
    // One batch carries up to 20 writes.
    assert!(
        stats.batch_requests <= changes_in(&plan).div_ceil(20) + 4,
        "{stats:?}"
    );
}

#[test]
fn graph_reads_more_than_999_users_in_pages() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &crate::testkit::tenant(2_100, 9));
    let emulator = start(&path, |_| {});
    // Page after page (the parallel read is tested in graph_fidelity).
    let mut graph = backend(&emulator, |o| o.parallel_reads = false);
    let live = graph.read().unwrap();
    assert_eq!(live.users.len(), 2_100);
    assert_eq!(live.tenant.domain, TENANT_DOMAIN);
    let ids: BTreeSet<&str> = live.users.iter().map(|u| u.id.as_str()).collect();
    assert_eq!(ids.len(), 2_100);
    // token, organization, subscribedSkus, three pages of users, one page of groups
    assert_eq!(graph.requests_sent(), 7);
    assert!(
        live.communications_credits.is_none(),
        "Graph has no credits API"
    );
    // What commcred reads of each user matches the tenant file.
    let licenses = |s: &Snapshot| -> Vec<(String, Option<String>, usize)> {
        s.users
            .iter()
            .map(|u| {
                (
                    u.id.clone(),
                    u.usage_location.clone(),
                    u.assigned_licenses.len(),
                )
            })
            .collect()
    };
    assert!(licenses(&live) == licenses(&read_tenant(&path)));
}

#[test]
fn graph_paces_writes_under_a_small_quota_and_applies_each_once() {
    let tenant = crate::testkit::tenant(90, 7);
    let start_time = Instant::now();
    let (file, graph, plan, stats, _) = apply_both(
        &tenant,
        &desired(90, all_users),
        |c| {
            c.quota.limit = 20;
            c.quota.window = Duration::from_secs(1);
            // Tokens expire during the run: the client must renew them in time.
            c.token_lifetime = Duration::from_secs(2);
        },
        |o| {
            o.quota_writes = 20;
            o.quota_window = Duration::from_secs(1);
        },
    );
    let writes = changes_in(&plan);
    assert!(writes > 60, "{writes}");
    assert_eq!(license_state(&graph), license_state(&file));
    // Paced under the quota. The client's pacer and the emulator's bucket keep separate
    // clocks, so on a loaded 2-core CI machine one or two writes may still meet a 429; what
    // must hold is that pacing, not retrying, carries the run.
    assert!(
        stats.quota_throttled <= 2,
        "paced under the quota: {stats:?}"
    );
    assert_eq!(stats.unauthorized, 0, "tokens renewed before expiry");
    assert_eq!(stats.effective_changes, writes);
    assert_eq!(stats.noop_writes, 0);
    assert_eq!(stats.users_changed_more_than_once, 0);
    // Burst of 20, then 20 per second.
    let floor = Duration::from_secs_f64((writes - 20) as f64 / 20.0 * 0.9);
    assert!(start_time.elapsed() >= floor, "{:?}", start_time.elapsed());
}

#[test]
fn graph_recovers_from_429s_when_the_quota_is_smaller_than_it_thinks() {
    let tenant = crate::testkit::tenant(60, 8);
    let (file, graph, plan, stats, _) = apply_both(
        &tenant,
        &desired(60, all_users),
        |c| {
            c.quota.limit = 15;
            c.quota.window = Duration::from_secs(1);
        },
        |_| {},
    );
    assert_eq!(license_state(&graph), license_state(&file));
    assert!(stats.quota_throttled > 0, "{stats:?}");
    assert_eq!(stats.effective_changes, changes_in(&plan));
    assert_eq!(stats.users_changed_more_than_once, 0);
    assert_eq!(stats.noop_writes, 0);
}

#[test]
fn graph_loses_and_repeats_nothing_under_5xx_and_dropped_connections() {
    let tenant = crate::testkit::tenant(150, 5);
    let (file, graph, plan, stats, _) = apply_both(
        &tenant,
        &desired(150, all_users),
        |c| {
            c.faults.error_rate = 0.1;
            c.faults.drop_rate = 0.1;
            c.faults.seed = Some(2026);
        },
        |_| {},
    );
    assert!(
        stats.injected_errors > 0 && stats.dropped_connections > 0,
        "{stats:?}"
    );
    assert_eq!(license_state(&graph), license_state(&file));
    assert_eq!(stats.effective_changes, changes_in(&plan), "{stats:?}");
    assert_eq!(stats.users_changed_more_than_once, 0, "{stats:?}");
    assert_eq!(
        stats.noop_writes, 0,
        "retries checked the user first: {stats:?}"
    );
    assert_eq!(stats.refused_writes, 0, "{stats:?}");
}

pub(crate) fn sku(id: &str, part: &str, friendly: Option<&str>) -> SkuRef {
    SkuRef {
        sku_id: id.into(),
        part_number: part.into(),
        friendly: friendly.map(Into::into),
    }
}

/// A plan the planner would refuse (no seat left), written by hand to see Graph refuse it.
pub(crate) fn hand_plan(
    live: &Snapshot,
    user: usize,
    add: Vec<SkuRef>,
    remove: Vec<SkuRef>,
) -> Plan {
    let index = commcred::tenant::TenantIndex::build(live);
    let u = &live.users[user];
    Plan {
        tenant_id: live.tenant.id.clone(),
        tenant_domain: live.tenant.domain.clone(),
        planned_at: now(),
        config_digest: "0".repeat(64),
        warnings: vec![],
        users: vec![UserChange {
            user_id: u.id.clone(),
            upn: u.user_principal_name.clone(),
            observed: commcred::plan::observe::observe_user(u, live, &index),
            usage_location: None,
            add,
            remove,
            notes: vec![],
            pruned: false,
            number: None,
        }],
        credits: None,
        groups: vec![],
        seats: vec![],
        cost: None,
    }
}

#[test]
fn graph_400_becomes_a_diagnostic_naming_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &rules_tenant());
    let emulator = start(&path, |_| {});
    let mut graph = backend(&emulator, |_| {});
    let live = graph.read().unwrap();
    // dave has a location and Teams Phone is free, but MCOPSTN1's only seat is alice's.
    let plan = hand_plan(
        &live,
        2,
        vec![
            sku(MCOEV, "MCOEV", Some("phoneSystem")),
            sku(MCOPSTN1, "MCOPSTN1", Some("domesticCallingPlan")),
        ],
        vec![],
    );
    let report = apply(&mut graph, &plan, &ctx()).unwrap();
    assert!(report.applied.is_empty());
    assert_eq!(report.failed.len(), 1);
    let why = &report.failed[0].1;
    assert!(
        why.starts_with("dave@contoso.com: Microsoft Graph refused to assign phoneSystem (MCOEV), domesticCallingPlan (MCOPSTN1) (400 Request_BadRequest): "),
        "{why}"
    );
    assert!(
        why.contains("does not have any available licenses"),
        "{why}"
    );
    assert!(why.contains("help: buy more seats"), "{why}");
    // Not retried: Graph's 400 is final.
    let stats = emulator.stats();
    assert_eq!((stats.writes, stats.refused_writes), (1, 1));
    assert_eq!(read_tenant(&path).users[2], rules_tenant().users[2]);
}

#[test]
fn graph_refuses_a_stale_plan_naming_the_user() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &rules_tenant());
    let emulator = start(&path, |_| {});
    let mut graph = backend(&emulator, |_| {});
    let live = graph.read().unwrap();
    let plan = hand_plan(&live, 0, vec![], vec![sku(MCOPSTN1, "MCOPSTN1", None)]);
    // Someone else changes alice between plan and apply.
    let other = hand_plan(
        &live,
        0,
        vec![sku(crate::emulator::MCOMEETADV, "MCOMEETADV", None)],
        vec![],
    );
    assert!(
        apply(&mut backend(&emulator, |_| {}), &other, &ctx())
            .unwrap()
            .is_success()
    );
    match apply(&mut graph, &plan, &ctx()) {
        Err(ApplyError::Stale(objects)) => assert_eq!(objects, ["user alice@contoso.com"]),
        other => panic!("expected a stale plan, got {other:?}"),
    }
    assert_eq!(emulator.stats().writes, 1);
}

#[test]
fn graph_returns_credits_changes_as_manual_steps() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &rules_tenant());
    let emulator = start(&path, |_| {});
    let mut graph = backend(&emulator, |_| {});
    let live = graph.read().unwrap();
    let mut plan = hand_plan(&live, 1, vec![], vec![]);
    plan.users[0].usage_location = Some(commcred::plan::UsageLocationChange {
        from: None,
        to: "IT".into(),
    });
    let amount = |s: &str| commcred::base::money::Amount::parse(s).unwrap();
    plan.credits = Some(CreditsChange {
        currency: "USD".into(),
        billing_account_type: BillingAccountType::Mosa,
        observed: ObservedCredits {
            usable_balance: amount("120.50"),
            auto_recharge_enabled: false,
            trigger_below: None,
            recharge_amount: None,
            payment_method: None,
            agreement_number: None,
            purchase_order: None,
            fund_ids: vec![],
        },
        settings: vec![],
        auto_recharge: Some(AutoRechargeTarget {
            enabled: true,
            trigger_below: Some(amount("100.00")),
            recharge_amount: Some(amount("250.00")),
        }),
        payment: None,
        add_funds: Some(amount("379.50")),
        balance_after: amount("500.00"),
        minimum_balance: None,
        ledger: None,
        forecast: None,
    });
    let report = apply(&mut graph, &plan, &ctx()).unwrap();
    assert!(report.is_success(), "{report:?}");
    assert_eq!(report.applied.len(), 1);
    assert_eq!(report.manual.len(), 2);
    for (op, why) in &report.manual {
        assert!(matches!(
            op,
            Operation::SetAutoRecharge(_) | Operation::AddFunds(_)
        ));
        assert!(why.contains("no API for Communications Credits"), "{why}");
        assert!(why.contains("Microsoft 365 admin center"), "{why}");
    }
    assert!(
        report.manual[1].1.contains("379.50"),
        "{}",
        report.manual[1].1
    );
    assert_eq!(
        read_tenant(&path).users[1].usage_location.as_deref(),
        Some("IT")
    );
}

/// Every file under `dir`, as text.
fn files_under(dir: &Path) -> Vec<(PathBuf, String)> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(files_under(&path));
        } else {
            out.push((
                path.clone(),
                String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned(),
            ));
        }
    }
    out
}

#[test]
fn graph_secret_appears_in_no_output_and_no_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &crate::testkit::tenant(30, 1));
    // The emulator checks the secret, so a wrong one fails the way Entra ID does.
    let emulator = start(&path, |c| {
        c.client = Some(commcred_emulator::ExpectedClient {
            client_id: "commcred-tests".into(),
            client_secret: SECRET.into(),
        })
    });
    let mut texts = Vec::new();
    let mut graph = backend(&emulator, |o| texts.push(format!("{o:?}")));
    let live = graph.read().unwrap();
    let plan = plan(&desired(30, all_users), &live, now()).unwrap();
    let report = apply(&mut graph, &plan, &ctx()).unwrap();
    assert!(report.is_success());
    texts.push(format!("{report:?}"));
    texts.push(format!("{plan:?}"));
    texts.push(serde_json::to_string(&plan).unwrap());

    // A refused secret: the error says so without repeating it.
    let mut wrong = backend(&emulator, |o| {
        o.credentials.credential = commcred::backend::graph::ClientCredential::Secret(Secret::new(
            format!("{SECRET}-wrong"),
        ));
    });
    let err = wrong.read().unwrap_err();
    let shown = err.to_string();
    assert!(shown.contains("AADSTS7000215"), "{shown}");
    texts.push(shown);
    texts.push(format!("{err:?}"));
    emulator.shutdown().unwrap();
    for (file, text) in files_under(dir.path()) {
        texts.push(format!("{}: {text}", file.display()));
    }
    for text in &texts {
        assert!(!text.contains(SECRET), "the secret leaked into: {text}");
    }
}

/// The quickstart without `communicationsCredits`: Graph cannot read credits, so a config
/// managing them cannot be planned against Graph without a ledger.
pub(crate) fn quickstart_without_credits() -> tempfile::TempDir {
    let dir = crate::common::example("quickstart");
    let yaml_path = dir.path().join("commcred.yaml");
    let yaml = std::fs::read_to_string(&yaml_path).unwrap();
    let start = yaml.find("communicationsCredits:").unwrap();
    let end = yaml.find("profiles:").unwrap();
    std::fs::write(&yaml_path, format!("{}{}", &yaml[..start], &yaml[end..])).unwrap();
    dir
}

pub(crate) fn with_graph_env(cmd: &mut assert_cmd::Command, url: &str, secret: &str) {
    cmd.env("COMMCRED_BACKEND", format!("graph:{url}"))
        .env("AZURE_TENANT_ID", TENANT_DOMAIN)
        .env("AZURE_CLIENT_ID", "commcred-cli")
        .env("AZURE_CLIENT_SECRET", secret)
        .env_remove("AZURE_AUTHORITY_HOST")
        .env_remove("COMMCRED_GRAPH_WRITE_QUOTA");
}

#[test]
fn graph_cli_plan_and_apply_through_the_emulator_binary() {
    let graph_dir = quickstart_without_credits();
    let file_dir = quickstart_without_credits();
    let tenant = graph_dir.path().join("tenant.json");
    let emulator = crate::emulator::spawn_binary(&["--tenant", tenant.to_str().unwrap()], &[]);

    let mut apply = crate::common::commcred(graph_dir.path());
    with_graph_env(&mut apply, &emulator.url, SECRET);
    let out = apply.args(["apply", "--auto-approve"]).output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("Apply complete!"), "{stdout}");

    let mut again = crate::common::commcred(graph_dir.path());
    with_graph_env(&mut again, &emulator.url, SECRET);
    again.args(["plan", "--detailed-exitcode"]).assert().code(0);

    crate::common::commcred(file_dir.path())
        .args(["apply", "--auto-approve"])
        .assert()
        .success();
    drop(emulator);
    assert_eq!(
        license_state(&read_tenant(&tenant)),
        license_state(&read_tenant(&file_dir.path().join("tenant.json")))
    );
}

#[test]
fn graph_cli_secret_appears_in_no_output_and_no_file() {
    let dir = quickstart_without_credits();
    let tenant = dir.path().join("tenant.json");
    let mut emulator = crate::emulator::spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--client-id",
            "commcred-cli",
        ],
        &[("COMMCRED_EMULATOR_CLIENT_SECRET", SECRET)],
    );
    let mut outputs = Vec::new();
    let mut run = |args: &[&str], secret: &str| {
        let mut cmd = crate::common::commcred(dir.path());
        with_graph_env(&mut cmd, &emulator.url, secret);
        let out = cmd.args(args).output().unwrap();
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        outputs.push(String::from_utf8_lossy(&out.stderr).into_owned());
        out.status.code()
    };
    assert_eq!(run(&["plan"], SECRET), Some(0));
    assert_eq!(run(&["apply", "--auto-approve"], SECRET), Some(0));
    // A wrong secret is refused the way Entra ID refuses it, without echoing either.
    let wrong = format!("{SECRET}-wrong");
    assert_eq!(run(&["plan"], &wrong), Some(1));
    let refused = outputs.last().unwrap();
    assert!(
        refused.contains("commcred::backend::auth") && refused.contains("AADSTS7000215"),
        "{refused}"
    );
    // And without credentials, the missing variables are named.
    let mut bare = crate::common::commcred(dir.path());
    bare.env("COMMCRED_BACKEND", format!("graph:{}", emulator.url))
        .env_remove("AZURE_TENANT_ID")
        .env_remove("AZURE_CLIENT_ID");
    let out = bare.arg("plan").output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("commcred::backend::error") && stderr.contains("AZURE_CLIENT_SECRET"),
        "{stderr}"
    );

    let _ = emulator.child.kill();
    let _ = emulator.child.wait();
    let mut emulator_err = String::new();
    if let Some(mut e) = emulator.child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut emulator_err);
    }
    outputs.push(emulator_err);
    for (file, text) in files_under(dir.path()) {
        outputs.push(format!("{}: {text}", file.display()));
    }
    for text in &outputs {
        assert!(!text.contains(SECRET), "the secret leaked into: {text}");
    }
}

#[tokio::test]
async fn graph_backend_can_be_used_and_dropped_inside_an_async_runtime() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &rules_tenant());
    let emulator = start(&path, |_| {});
    let mut graph = backend(&emulator, |_| {});
    assert_eq!(graph.read().unwrap().users.len(), 3);
    drop(graph);
}

#[test]
fn graph_cli_reports_a_graph_400_naming_the_user() {
    let dir = quickstart_without_credits();
    let tenant = dir.path().join("tenant.json");
    let emulator = crate::emulator::spawn_binary(&["--tenant", tenant.to_str().unwrap()], &[]);
    let mut plan_cmd = crate::common::commcred(dir.path());
    with_graph_env(&mut plan_cmd, &emulator.url, SECRET);
    plan_cmd
        .args(["plan", "--out", "plan.json"])
        .assert()
        .success();
    drop(emulator);

    // Between plan and apply the domestic calling plan loses seats (one more than alice's
    // swap frees): no user the plan touches changed, so the plan is not stale, but Graph
    // refuses judy's assignment.
    let mut snapshot = read_tenant(&tenant);
    let sku = snapshot
        .subscribed_skus
        .iter_mut()
        .find(|s| s.sku_part_number == "MCOPSTN1")
        .unwrap();
    sku.prepaid_units.enabled = sku.consumed_units - 1;
    write_tenant(dir.path(), &snapshot);
    let emulator = crate::emulator::spawn_binary(&["--tenant", tenant.to_str().unwrap()], &[]);

    let mut apply = crate::common::commcred(dir.path());
    with_graph_env(&mut apply, &emulator.url, SECRET);
    let out = apply.args(["apply", "plan.json"]).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(
        text.contains("judy@contoso.com: Microsoft Graph refused to assign"),
        "{text}"
    );
    assert!(
        text.contains("does not have any available licenses"),
        "{text}"
    );
    assert!(text.contains("help: buy more seats"), "{text}");
    // The other users' changes went through.
    let after = read_tenant(&tenant);
    let bob = after
        .users
        .iter()
        .find(|u| u.user_principal_name == "bob@contoso.com")
        .unwrap();
    assert_eq!(bob.usage_location.as_deref(), Some("US"));
}
