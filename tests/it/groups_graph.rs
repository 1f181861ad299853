//! Group-based licensing through the Graph backend against the emulator on 127.0.0.1:0, with
//! Entra ID's processing delayed (`group_processing_delay`): the client must wait for members
//! to be processed before it reprocesses or removes direct copies.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use crate::testkit::group_tenant;
use commcred::apply::{ApplyContext, apply};
use commcred::backend::Backend;
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, RetryPolicy, Secret};
use commcred::plan::plan;
use commcred::tenant::{Snapshot, TenantIndex};
use commcred_emulator::{Emulator, Observer};

use crate::emulator::{TENANT_DOMAIN, read_tenant, start, write_tenant};
use crate::groups::{GROUP_YAML, can_call};

const DELAY: Duration = Duration::from_millis(300);

fn now() -> chrono::DateTime<chrono::Utc> {
    "2026-11-25T12:00:00Z".parse().unwrap()
}

fn backend(emulator: &Emulator) -> GraphBackend {
    let credentials =
        Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new("group-secret"));
    let mut options = GraphOptions::new(Some(&emulator.base_url()), credentials);
    options.retry = RetryPolicy {
        max_attempts: 6,
        min_delay: Duration::from_millis(10),
        max_delay: Duration::from_millis(200),
    };
    options.group_wait.deadline = Duration::from_secs(30);
    options.group_wait.max_poll = Duration::from_millis(200);
    GraphBackend::new(options).unwrap()
}

fn desired(dir: &std::path::Path, yaml: &str) -> commcred::config::DesiredState {
    let path = dir.join("commcred.yaml");
    std::fs::write(&path, yaml).unwrap();
    commcred::config::load(&path).unwrap()
}

fn read(b: &mut GraphBackend) -> Snapshot {
    b.want_groups(vec!["Sales Phones".into()]);
    b.read().unwrap()
}

#[test]
fn shortfall_is_refused_and_with_enough_seats_every_member_inherits() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &group_tenant(1_500, 1_000, 0));
    let want = desired(dir.path(), GROUP_YAML);
    {
        let emulator = start(&path, |c| c.group_processing_delay = DELAY);
        let live = read(&mut backend(&emulator));
        assert_eq!(live.groups.len(), 1);
        assert_eq!(live.groups[0].members.len(), 1_500);
        let errors = plan(&want, &live, now()).unwrap_err();
        let text = format!("{errors:?}");
        assert!(text.contains("short by 500"), "{text}");
    }
    let mut s = read_tenant(&path);
    s.subscribed_skus[0].prepaid_units.enabled = 1_500;
    s.subscribed_skus[1].prepaid_units.enabled = 1_500;
    write_tenant(dir.path(), &s);
    let emulator = start(&path, |c| c.group_processing_delay = DELAY);
    let mut b = backend(&emulator);
    let live = read(&mut b);
    let p = plan(&want, &live, now()).unwrap();
    let report = apply(&mut b, &p, &ApplyContext::new(now())).unwrap();
    assert!(report.is_success(), "{:?}", report.failed);
    // Apply returned only once Entra ID (delayed) had processed every member.
    let s = emulator.snapshot();
    let index = TenantIndex::build(&s);
    assert!((0..1_500).all(|u| can_call(&s, &index, u)));
    assert!(!plan(&want, &read(&mut b), now()).unwrap().has_changes());
}

#[test]
fn a_member_in_error_is_reported_and_reprocessed_once_seats_are_freed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &group_tenant(1_500, 1_000, 0));
    let want = desired(dir.path(), GROUP_YAML);
    {
        // Assigned with 1,000 seats: 500 members end in CountViolation.
        let mut s = read_tenant(&path);
        s.subscribed_skus[0].prepaid_units.enabled = 1_500;
        s.subscribed_skus[1].prepaid_units.enabled = 1_500;
        write_tenant(dir.path(), &s);
        let emulator = start(&path, |c| c.group_processing_delay = DELAY);
        let mut b = backend(&emulator);
        let p = plan(&want, &read(&mut b), now()).unwrap();
        drop(emulator);
        // Seats taken back before the change is applied (another admin, say).
        let mut s = read_tenant(&path);
        s.subscribed_skus[0].prepaid_units.enabled = 1_000;
        s.subscribed_skus[1].prepaid_units.enabled = 1_000;
        write_tenant(dir.path(), &s);
        let emulator = start(&path, |c| c.group_processing_delay = DELAY);
        let mut b = backend(&emulator);
        let report = apply(&mut b, &p, &ApplyContext::new(now())).unwrap();
        assert!(report.is_success(), "{:?}", report.failed);
        assert_eq!(emulator.snapshot().group_errors().len(), 1_000);
    }
    let emulator = start(&path, |c| c.group_processing_delay = DELAY);
    let mut b = backend(&emulator);
    let p = plan(&want, &read(&mut b), now()).unwrap();
    let group = &p.groups[0];
    let error = group
        .errors
        .iter()
        .find(|e| e.upn == "user1200@contoso.com" && e.sku.part_number.as_ref() == "MCOEV")
        .unwrap();
    assert_eq!(error.error, "CountViolation");
    assert!(group.reprocess.is_empty(), "no seat is free yet");
    drop(b);
    drop(emulator);

    // Free the seats (bought), plan again: the members are reprocessed.
    let mut s = read_tenant(&path);
    s.subscribed_skus[0].prepaid_units.enabled = 1_500;
    s.subscribed_skus[1].prepaid_units.enabled = 1_500;
    write_tenant(dir.path(), &s);
    let emulator = start(&path, |c| c.group_processing_delay = DELAY);
    let mut b = backend(&emulator);
    let p = plan(&want, &read(&mut b), now()).unwrap();
    assert_eq!(p.groups[0].reprocess.len(), 500);
    let report = apply(&mut b, &p, &ApplyContext::new(now())).unwrap();
    assert!(report.is_success(), "{:?}", report.failed);
    let s = emulator.snapshot();
    assert!(s.group_errors().is_empty());
    let index = TenantIndex::build(&s);
    assert!(can_call(&s, &index, 1_200));
}

#[test]
fn moving_direct_holders_to_the_group_never_leaves_anyone_without_calling() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &group_tenant(300, 300, 200));
    let want = desired(dir.path(), &format!("{GROUP_YAML}prefer: groups\n"));
    let states = Arc::new(AtomicUsize::new(0));
    let gaps = Arc::new(AtomicUsize::new(0));
    let (seen, missing) = (states.clone(), gaps.clone());
    let observer = Observer(Arc::new(move |s: &Snapshot| {
        seen.fetch_add(1, Ordering::Relaxed);
        let index = TenantIndex::build(s);
        missing.fetch_add(
            (0..200).filter(|&u| !can_call(s, &index, u)).count(),
            Ordering::Relaxed,
        );
    }));
    let emulator = start(&path, |c| {
        c.group_processing_delay = DELAY;
        c.observer = Some(observer);
    });
    let mut b = backend(&emulator);
    let p = plan(&want, &read(&mut b), now()).unwrap();
    assert_eq!(p.groups[0].migrate.len(), 200);
    let report = apply(&mut b, &p, &ApplyContext::new(now())).unwrap();
    assert!(report.is_success(), "{:?}", report.failed);
    assert!(report.manual.is_empty(), "{:?}", report.manual);
    // Every state the emulator stored: the group change, its processing, 200 removals.
    assert!(states.load(Ordering::Relaxed) >= 202);
    assert_eq!(
        gaps.load(Ordering::Relaxed),
        0,
        "a user lost calling at some step"
    );
    let s = emulator.snapshot();
    let index = TenantIndex::build(&s);
    for u in 0..300 {
        assert!(can_call(&s, &index, u));
        let held = commcred::tenant::rules::holdings(&s.users[u], &s, &index);
        assert!(
            held.iter().all(|h| !h.direct),
            "user {u} keeps a direct copy"
        );
    }
    assert!(!plan(&want, &read(&mut b), now()).unwrap().has_changes());
}

#[test]
fn members_not_processed_in_time_keep_their_direct_license_and_are_reported() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &group_tenant(10, 10, 5));
    let want = desired(dir.path(), &format!("{GROUP_YAML}prefer: groups\n"));
    let emulator = start(&path, |c| c.group_processing_delay = Duration::from_secs(3));
    let mut b = backend(&emulator);
    let p = plan(&want, &read(&mut b), now()).unwrap();
    let mut impatient = {
        let credentials =
            Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new("group-secret"));
        let mut options = GraphOptions::new(Some(&emulator.base_url()), credentials);
        options.group_wait.deadline = Duration::from_millis(300);
        GraphBackend::new(options).unwrap()
    };
    let report = apply(&mut impatient, &p, &ApplyContext::new(now())).unwrap();
    assert!(report.is_success(), "{:?}", report.failed);
    assert_eq!(report.manual.len(), 5, "{:?}", report.manual);
    assert!(
        report.manual[0].1.contains("keeps its direct license")
            && report.manual[0].1.contains("not processed yet"),
        "{:?}",
        report.manual
    );
    let s = emulator.snapshot();
    let index = TenantIndex::build(&s);
    for u in 0..5 {
        assert!(can_call(&s, &index, u), "user {u} lost calling");
        let held = commcred::tenant::rules::holdings(&s.users[u], &s, &index);
        assert!(
            held.iter().any(|h| h.direct),
            "user {u} lost its direct copy"
        );
    }
}

#[test]
fn the_apply_deadline_bounds_the_wait_for_group_processing() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &group_tenant(10, 10, 5));
    let want = desired(dir.path(), &format!("{GROUP_YAML}prefer: groups\n"));
    // Entra ID (the emulator) takes 5 s; the backend would wait 30 minutes for it, but the
    // apply's own deadline (`apply --timeout`) is 1.5 s away.
    let emulator = start(&path, |c| c.group_processing_delay = Duration::from_secs(5));
    let mut b = backend(&emulator);
    let p = plan(&want, &read(&mut b), now()).unwrap();
    let mut ctx = ApplyContext::new(now());
    ctx.deadline = Some(std::time::Instant::now() + Duration::from_millis(1500));
    let started = std::time::Instant::now();
    let report = apply(&mut b, &p, &ctx).unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the group wait outlived the deadline: {:?}",
        started.elapsed()
    );
    // Nobody was processed in time: every direct copy is kept and said so.
    assert_eq!(report.manual.len(), 5, "{:?}", report.manual);
    let s = emulator.snapshot();
    let index = TenantIndex::build(&s);
    for u in 0..5 {
        assert!(can_call(&s, &index, u), "user {u} lost calling");
    }
}
