//! Property: for generated tenants and desired states, a plan either fails (changing
//! nothing) or, applied with Graph's rules, reaches the desired state, after which planning
//! again finds nothing to do.

use std::collections::BTreeSet;
use std::path::PathBuf;

use chrono::{DateTime, Utc};
use commcred::backend::file::engine::apply_to_snapshot;
use commcred::base::licenses::{Capabilities, Friendly, LicenseName};
use commcred::config::{DesiredAutoRecharge, DesiredCredits, DesiredState, DesiredUser, Origin};
use commcred::plan::plan;
use commcred::tenant::{Snapshot, TenantIndex, credits::usable_balance, rules::holdings};
use proptest::prelude::*;
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
    &[DomesticCallingPlan],   // needs Teams Phone
    &[CommunicationsCredits], // credits need a way to call
    &[PhoneSystem, DomesticCallingPlan, InternationalCallingPlan], // two calling plans
    &[PhoneSystem, DomesticCallingPlan120, CommunicationsCredits],
    &[PhoneSystem, PayAsYouGoCallingPlan], // warns: no credits
    &[PhoneSystem, PayAsYouGoCallingPlan, CommunicationsCredits],
];

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
            proptest::collection::vec(0i64..40, 6),
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

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, .. ProptestConfig::default() })]

    #[test]
    fn applying_a_plan_converges(case in cases()) {
        let (live, desired) = build(&case);
        prop_assert!(seats_are_consistent(&live));
        let Ok(first) = plan(&desired, &live, now()) else {
            // A plan with errors is never applied: nothing to check beyond no panic.
            return Ok(());
        };
        let mut after = live.clone();
        let report = apply_to_snapshot(&mut after, &first.operations(), now());
        prop_assert!(report.is_success(), "apply refused: {:?}", report.failed);
        prop_assert!(seats_are_consistent(&after));
        // Never more seats in use than bought (unless the tenant started over-assigned).
        for (sku, before) in after.subscribed_skus.iter().zip(&live.subscribed_skus) {
            let floor = before.available_seats().min(0);
            prop_assert!(sku.available_seats() >= floor, "{} over-assigned", sku.sku_part_number);
        }

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
                let LicenseName::Friendly(f) = name else { continue };
                let provided = f.capabilities().iter().any(|c| caps.has(*c));
                prop_assert!(provided, "{} lacks {f}: {:?}", want.upn, caps.iter().collect::<Vec<_>>());
            }
            let gained = first
                .users
                .iter()
                .any(|c| c.upn == user.user_principal_name && !c.add.is_empty());
            if gained {
                prop_assert!(user.usage_location.is_some(), "{} has no usage location", want.upn);
            }
        }
        if let (Some(min), Some(account)) = (case.minimum, &after.communications_credits) {
            prop_assert!(usable_balance(account, now()) >= Decimal::new(min, 2));
        }
    }
}
