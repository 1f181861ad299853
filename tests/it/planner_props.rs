//! Property: for generated tenants and desired states, a plan either fails for a reason
//! the generator planted (and changes nothing) or, applied with Graph's rules, reaches the
//! desired state, leaves unlisted users alone (or prunes them under `prune: true`), after
//! which planning again finds nothing to do. A floor of generated cases must plan: a
//! planner that refused everything would fail.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use commcred::backend::file::engine::apply_to_snapshot;
use commcred::base::licenses::{Capabilities, Friendly, LicenseName};
use commcred::config::{DesiredAutoRecharge, DesiredCredits, DesiredState, DesiredUser, Origin};
use commcred::plan::PlanErrors;
use commcred::plan::plan;
use commcred::tenant::capabilities::friendly_of;
use commcred::tenant::{Snapshot, TenantIndex, credits::usable_balance, rules::holdings};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use rust_decimal::Decimal;

use Friendly::*;

/// License sets a generated user may want: mostly valid, some breaking a rule.
const WANTS: &[&[Friendly]] = &[
    &[],
    &[AudioConferencing],
    &[AudioConferencing, CommunicationsCredits],
    &[PhoneSystem],
    &[PhoneSystem, DomesticCallingPlan],
    &[PhoneSystem, DomesticCallingPlan, CommunicationsCredits],
    &[PhoneSystem, InternationalCallingPlan, CommunicationsCredits],
    &[PhoneSystem, InternationalCallingPlan, AudioConferencing],
    &[DomesticCallingPlan],   // needs Teams Phone (index 8)
    &[CommunicationsCredits], // credits need a way to call (index 9)
    &[PhoneSystem, DomesticCallingPlan, InternationalCallingPlan], // two calling plans
    &[PhoneSystem, DomesticCallingPlan120, CommunicationsCredits],
    &[PhoneSystem, PayAsYouGoCallingPlan], // warns: no credits
    &[PhoneSystem, PayAsYouGoCallingPlan, CommunicationsCredits],
];

/// The wanted sets above that may break a rule (planted refusals).
const BREAKING: &[usize] = &[8, 9];

const LOCATIONS: &[Option<&str>] = &[None, Some("US"), Some("GB"), Some("IT")];

fn now() -> DateTime<Utc> {
    "2026-11-25T00:00:00Z".parse().unwrap()
}

#[derive(Debug, Clone)]
struct Case {
    users: usize,
    seed: u64,
    /// Per listed user: (user number, wanted set, declared location).
    listed: Vec<(usize, usize, usize)>,
    prune: bool,
    seats: Vec<i64>,
    minimum: Option<i64>,
    default_location: bool,
}

fn cases() -> impl Strategy<Value = Case> {
    (1usize..30, any::<u64>()).prop_flat_map(|(users, seed)| {
        (
            proptest::collection::vec((0..users, 0..WANTS.len(), 0..LOCATIONS.len()), 0..users + 1),
            any::<bool>(),
            // One entry per SKU of the synthetic tenant: every SKU under seat pressure.
            proptest::collection::vec(0i64..40, 16),
            proptest::option::of(0i64..100_000),
            any::<bool>(),
        )
            .prop_map(
                move |(listed, prune, seats, minimum, default_location)| Case {
                    users,
                    seed,
                    listed,
                    prune,
                    seats,
                    minimum,
                    default_location,
                },
            )
    })
}

fn build(case: &Case) -> (Snapshot, DesiredState) {
    let mut live = crate::testkit::tenant(case.users, case.seed);
    assert!(
        live.subscribed_skus.len() <= case.seats.len(),
        "a seat count per SKU"
    );
    for (sku, extra) in live.subscribed_skus.iter_mut().zip(&case.seats) {
        // Seats from "none spare" to plenty, so shortfalls happen.
        sku.prepaid_units.enabled = sku.consumed_units + extra - 5;
    }
    let mut seen = BTreeSet::new();
    let users = case
        .listed
        .iter()
        .filter(|(n, _, _)| seen.insert(*n))
        .map(|&(n, want, loc)| DesiredUser {
            phone: None,
            upn: format!("user{n}@contoso.com"),
            usage_location: LOCATIONS[loc].map(str::to_string),
            licenses: WANTS[want]
                .iter()
                .map(|&f| LicenseName::Friendly(f))
                .collect(),
            origin: Origin {
                file: std::path::Path::new("commcred.yaml").into(),
                line: n + 1,
                column: 5,
            },
        })
        .collect();
    let desired = DesiredState {
        config_path: PathBuf::from("commcred.yaml"),
        digest: "prop".into(),
        tenant: "contoso.onmicrosoft.com".into(),
        tenant_origin: None,
        backend: None,
        default_usage_location: case.default_location.then(|| "US".to_string()),
        billing_account: None,
        credits: Some(DesiredCredits {
            currency: "USD".into(),
            minimum_balance: case.minimum.map(|m| Decimal::new(m, 2)),
            auto_recharge: Some(DesiredAutoRecharge {
                enabled: true,
                trigger_below: Some(Decimal::new(10000, 2)),
                recharge_amount: Some(Decimal::new(25000, 2)),
            }),
            payment: None,
            ledger: None,
            origin: Origin {
                file: std::path::Path::new("commcred.yaml").into(),
                line: 3,
                column: 1,
            },
        }),
        users,
        prune: case.prune,
        groups: Default::default(),
        prices: None,
    };
    (live, desired)
}

/// Every SKU's consumedUnits equals the number of users holding it in any way.
fn seats_are_consistent(snapshot: &Snapshot) -> bool {
    let index = TenantIndex::build(snapshot);
    let mut holders = vec![0i64; snapshot.subscribed_skus.len()];
    for u in &snapshot.users {
        // An assignment in error holds no seat.
        for h in holdings(u, snapshot, &index)
            .into_iter()
            .filter(|h| h.provides())
        {
            if let Some(i) = h.sku {
                holders[i] += 1;
            }
        }
    }
    snapshot
        .subscribed_skus
        .iter()
        .zip(holders)
        .all(|(s, n)| s.consumed_units == n)
}

/// Every problem of a refused plan is one the generator planted: a wanted set that may
/// break a rule, a SKU with fewer free seats than listed users, a listed user left with no
/// usage location. Anything else is a planner bug.
fn refusal_was_planted(
    case: &Case,
    live: &Snapshot,
    desired: &DesiredState,
    errors: &PlanErrors,
) -> Result<(), TestCaseError> {
    for p in &errors.0 {
        let m = &p.message;
        let users: Vec<&DesiredUser> = desired
            .users
            .iter()
            .filter(|u| {
                m.split(|c: char| c.is_whitespace() || c == ',' || c == '(' || c == ')')
                    .any(|w| w.trim_end_matches(':') == u.upn)
            })
            .collect();
        let wanted = |u: &DesiredUser| {
            case.listed
                .iter()
                .find(|(n, _, _)| format!("user{n}@contoso.com") == u.upn)
                .map(|&(_, w, _)| w)
                .unwrap()
        };
        match p.code {
            "commcred::plan::prerequisite_missing" => {
                prop_assert!(
                    users.len() == 1 && BREAKING.contains(&wanted(users[0])),
                    "prerequisite refusal not planted: {m}"
                );
            }
            "commcred::plan::usage_location_missing" => {
                prop_assert!(!case.default_location, "a default location was given: {m}");
                let index = TenantIndex::build(live);
                prop_assert!(
                    users.len() == 1
                        && users[0].usage_location.is_none()
                        && live.users[index.user_by_upn(&users[0].upn).unwrap()]
                            .usage_location
                            .is_none(),
                    "usage location refusal not planted: {m}"
                );
            }
            "commcred::plan::seat_shortfall" | "commcred::plan::swaps_unorderable" => {
                // Only SKUs squeezed below the number of listed users can run short.
                let squeezed = live.subscribed_skus.iter().any(|s| {
                    s.available_seats() < desired.users.len() as i64
                        && m.contains(s.sku_part_number.as_str())
                });
                prop_assert!(squeezed, "seat refusal on a SKU with room: {m}");
            }
            other => prop_assert!(false, "refusal the generator never planted: {other}: {m}"),
        }
    }
    Ok(())
}

/// Unlisted users keep everything (usage location, every assignment), except under
/// `prune: true`, where their direct managed licenses go and the rest stays.
fn unlisted_users_are_left_alone_or_pruned(
    case: &Case,
    live: &Snapshot,
    after: &Snapshot,
    desired: &DesiredState,
) -> Result<(), TestCaseError> {
    let index = TenantIndex::build(live);
    let managed: Vec<String> = live
        .subscribed_skus
        .iter()
        .filter(|s| friendly_of(s).is_some())
        .map(|s| s.sku_id.to_ascii_lowercase())
        .collect();
    for (u, (before, now)) in live.users.iter().zip(&after.users).enumerate() {
        if desired
            .users
            .iter()
            .any(|d| d.upn == before.user_principal_name)
        {
            continue;
        }
        prop_assert_eq!(&before.usage_location, &now.usage_location);
        let held_after = holdings(now, after, &TenantIndex::build(after));
        for h in holdings(before, live, &index) {
            let kept = held_after.iter().find(|a| a.sku_id == h.sku_id);
            let direct_managed = h.direct && managed.contains(&h.sku_id.to_ascii_lowercase());
            if case.prune && direct_managed {
                prop_assert!(
                    kept.is_none_or(|k| !k.direct),
                    "user {u}: pruned {} still held directly",
                    h.sku_id
                );
            } else {
                prop_assert!(
                    kept.is_some_and(|k| k.direct == h.direct && k.groups == h.groups),
                    "user {u}: unlisted user's {} changed",
                    h.sku_id
                );
            }
        }
    }
    Ok(())
}

/// One generated case: `Ok(true)` when it planned and converged, `Ok(false)` when it was
/// refused for a planted reason.
fn check(case: &Case) -> Result<bool, TestCaseError> {
    let (live, desired) = build(case);
    prop_assert!(seats_are_consistent(&live));
    let first = match plan(&desired, &live, now()) {
        Ok(p) => p,
        Err(errors) => {
            refusal_was_planted(case, &live, &desired, &errors)?;
            return Ok(false);
        }
    };
    let mut after = live.clone();
    let report = apply_to_snapshot(&mut after, &first.operations(), now());
    prop_assert!(report.is_success(), "apply refused: {:?}", report.failed);
    prop_assert!(seats_are_consistent(&after));
    // Never more seats in use than bought (unless the tenant started over-assigned).
    for (sku, before) in after.subscribed_skus.iter().zip(&live.subscribed_skus) {
        let floor = before.available_seats().min(0);
        prop_assert!(
            sku.available_seats() >= floor,
            "{} over-assigned",
            sku.sku_part_number
        );
    }
    unlisted_users_are_left_alone_or_pruned(case, &live, &after, &desired)?;

    let second = plan(&desired, &after, now()).expect("a converged tenant still plans");
    prop_assert!(!second.has_changes(), "not converged: {:?}", second.users);

    // The desired licenses are held by every listed user (directly or otherwise).
    let index = TenantIndex::build(&after);
    for want in &desired.users {
        let user = &after.users[index.user_by_upn(&want.upn).unwrap()];
        // What the user's active, enabled assignments give (a resource account's Teams
        // Phone counts as Teams Phone, docs/licensing.md).
        let caps = holdings(user, &after, &index)
            .into_iter()
            .fold(Capabilities::default(), |acc, h| acc.union(h.capabilities))
            .as_held();
        for name in &want.licenses {
            let LicenseName::Friendly(f) = name else {
                continue;
            };
            let provided = f.capabilities().iter().any(|c| caps.has(*c));
            prop_assert!(
                provided,
                "{} lacks {f}: {:?}",
                want.upn,
                caps.iter().collect::<Vec<_>>()
            );
        }
        let gained = first
            .users
            .iter()
            .any(|c| c.upn == user.user_principal_name && !c.add.is_empty());
        if gained {
            prop_assert!(
                user.usage_location.is_some(),
                "{} has no usage location",
                want.upn
            );
        }
    }
    if let (Some(min), Some(account)) = (case.minimum, &after.communications_credits) {
        prop_assert!(usable_balance(account, now()) >= Decimal::new(min, 2));
    }
    Ok(true)
}

#[test]
fn applying_a_plan_converges() {
    const CASES: u32 = 512;
    let planned = std::sync::atomic::AtomicU32::new(0);
    let mut runner = TestRunner::new(Config {
        cases: CASES,
        ..Config::default()
    });
    runner
        .run(&cases(), |case| {
            if check(&case)? {
                planned.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        })
        .unwrap();
    // The generator plants a refusal in some cases only: most must plan. A planner that
    // refused everything (or nearly) fails here.
    let planned = planned.into_inner();
    eprintln!("{planned} of {CASES} generated cases planned");
    assert!(
        planned >= CASES / 4,
        "only {planned} of {CASES} generated cases planned"
    );
}
