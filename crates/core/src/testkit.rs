//! Synthetic tenants and configs of any size, for property tests, benchmarks and trials.
//! Deterministic for a given seed. Not used by the commands themselves, so not part of the
//! library: unit tests get it through `#[cfg(test)] mod testkit` in lib.rs, the
//! integration tests (`tests/it/main.rs`) and benches through `#[path]`. It therefore
//! names the library `commcred::` (lib.rs has `extern crate self as commcred`).

use std::fmt::Write as _;

use serde_json::json;

use commcred::tenant::Snapshot;

/// The SKUs of the synthetic tenant, by part number: ids and service plans come from the
/// capability catalog (Microsoft's table), not typed here. No two sell the same capability,
/// so every friendly name resolves.
const CATALOGUE: &[&str] = &[
    "MCOMEETADV",
    "MCOEV",
    "MCOPSTN1",
    "MCOPSTN2",
    "MCOPSTNC",
    "ENTERPRISEPREMIUM",
    "SPE_E5_CALLINGMINUTES",
    "M365_G5_GCC",
    "PHONESYSTEM_VIRTUALUSER",
    "MCOPSTN5_US",
    "Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1_US)",
];

/// Valid starting license sets (indexes into the catalogue) a synthetic user may hold.
const START_SETS: &[&[usize]] = &[
    &[],
    &[0],
    &[1, 2],
    &[1, 2, 4],
    &[0, 4],
    &[5],
    &[5, 4],
    &[1],
    &[6],
    &[7, 4],
    &[8],
    &[1, 9],
    &[1, 10, 4],
];

/// States a group's assignment may be in (Graph's `state`, `error`).
const GROUP_STATES: &[(&str, Option<&str>)] = &[
    ("Active", None),
    ("Active", None),
    ("Error", Some("CountViolation")),
    ("ActiveWithError", Some("MutuallyExclusiveViolation")),
];

/// A SKU of the catalogue as `subscribedSkus` shows it: id, part number, service plans.
fn catalogue_sku(part: &str) -> CatalogueSku {
    let catalog = commcred::base::catalog::catalog();
    let sku = catalog
        .sku(part)
        .unwrap_or_else(|| panic!("{part} is in Microsoft's table"));
    let plans = sku
        .calling_service_plans
        .iter()
        .map(|name| {
            let plan = catalog
                .service_plan(name)
                .expect("catalog plans are listed");
            (plan.service_plan_id.clone(), name.clone())
        })
        .collect();
    (sku.sku_id.clone(), plans)
}

/// Profiles of the synthetic config, by friendly names.
pub const PROFILES: &[(&str, &[&str])] = &[
    ("dial-out", &["audioConferencing", "communicationsCredits"]),
    (
        "us-phone",
        &[
            "phoneSystem",
            "domesticCallingPlan",
            "communicationsCredits",
        ],
    ),
    (
        "intl-phone",
        &[
            "phoneSystem",
            "internationalCallingPlan",
            "communicationsCredits",
        ],
    ),
    ("conf", &["audioConferencing"]),
];

/// A small deterministic generator (SplitMix64), so fixtures need no RNG crate.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }
}

/// A SKU of the catalogue with its service plans: (SKU id, [(plan id, plan name)]).
type CatalogueSku = (String, Vec<(String, String)>);

const GROUP_ID: &str = "9f0e6c1a-0000-4000-8000-00000000abcd";

/// A tenant of `users` users with the catalogue's SKUs (seats for everyone), some users
/// holding licenses, a few through a group (some of those in error), a credits account.
pub fn tenant(users: usize, seed: u64) -> Snapshot {
    let mut rng = Rng::new(seed);
    let skus: Vec<CatalogueSku> = CATALOGUE.iter().map(|p| catalogue_sku(p)).collect();
    let mut consumed = vec![0i64; CATALOGUE.len()];
    let user_values: Vec<_> = (0..users)
        .map(|n| synthetic_user(n, &mut rng, &skus, &mut consumed))
        .collect();
    let sku_values: Vec<_> = CATALOGUE
        .iter()
        .zip(&skus)
        .enumerate()
        .map(|(i, (part, (id, plans)))| {
            json!({
                "skuId": id, "skuPartNumber": part, "appliesTo": "User",
                "capabilityStatus": "Enabled",
                "prepaidUnits": {"enabled": users as i64 * 2 + 10, "warning": 0, "suspended": 0, "lockedOut": 0},
                "consumedUnits": consumed[i],
                "servicePlans": plans.iter().map(|(plan_id, name)| json!({
                    "servicePlanId": plan_id,
                    "servicePlanName": name
                })).collect::<Vec<_>>()
            })
        })
        .collect();
    let value = json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": "contoso.onmicrosoft.com"},
        "groups": [{"id": GROUP_ID, "displayName": "Conferencing"}],
        "subscribedSkus": sku_values,
        "users": user_values,
        "communicationsCredits": {
            "billingAccountType": "MOSA", "currency": "USD",
            "funds": [{"id": "f-1", "purchasedAt": "2026-06-01T00:00:00Z", "amount": "300.00", "remaining": "120.50"}],
            "autoRecharge": {"enabled": false, "triggerBelow": null, "rechargeAmount": null},
            "payment": {"method": "creditCard", "agreementNumber": null, "purchaseOrder": null}
        }
    });
    serde_json::from_value(value).expect("the synthetic tenant is a valid snapshot")
}

/// User `n`: a random starting set, held directly or (audio conferencing alone, one time in
/// four) through the group in a random state; active assignments are counted in `consumed`.
fn synthetic_user(
    n: usize,
    rng: &mut Rng,
    skus: &[CatalogueSku],
    consumed: &mut [i64],
) -> serde_json::Value {
    let set = START_SETS[rng.below(START_SETS.len())];
    let by_group = set == [0] && rng.below(4) == 0;
    let (state, error) = if by_group {
        GROUP_STATES[rng.below(GROUP_STATES.len())]
    } else {
        ("Active", None)
    };
    if state == "Active" {
        for &s in set {
            consumed[s] += 1;
        }
    }
    // Some E5 users have Audio Conferencing switched off (`disabledPlans`).
    let disable_conferencing = set == [5] && rng.below(3) == 0;
    let location = match rng.below(4) {
        0 => serde_json::Value::Null,
        1 => json!("GB"),
        _ => json!("US"),
    };
    let licenses: Vec<_> = set
        .iter()
        .map(|&s| {
            let disabled: Vec<&str> = skus[s]
                .1
                .iter()
                .filter(|(_, name)| disable_conferencing && name == "MCOMEETADV")
                .map(|(id, _)| id.as_str())
                .collect();
            json!({"skuId": skus[s].0, "disabledPlans": disabled})
        })
        .collect();
    let group = if by_group {
        json!(GROUP_ID)
    } else {
        serde_json::Value::Null
    };
    let states: Vec<_> = set
        .iter()
        .map(|&s| json!({"skuId": skus[s].0, "assignedByGroup": group, "state": state, "error": error}))
        .collect();
    json!({
        "id": format!("00000000-0000-4000-8000-{n:012}"),
        "userPrincipalName": format!("user{n}@contoso.com"),
        "displayName": format!("User {n}"),
        "usageLocation": location,
        "assignedLicenses": licenses,
        "licenseAssignmentStates": states,
    })
}

/// A `commcred.yaml` listing every user of [`tenant`] with a profile; with `csv_users`,
/// that many of them come from `users.csv` instead (returned as the second string).
pub fn config_yaml(users: usize, csv_users: usize, seed: u64) -> (String, String) {
    config_with_numbers(users, csv_users, seed, None)
}

/// The profiles whose users place PSTN calls (they hold a calling plan).
fn is_calling_profile(profile: &str) -> bool {
    PROFILES
        .iter()
        .find(|(name, _)| *name == profile)
        .is_some_and(|(_, licenses)| licenses.iter().any(|l| l.contains("CallingPlan")))
}

/// [`config_yaml`]; with `numbers`, every calling user (a profile with a calling plan) also
/// declares a `phoneNumber`, added to that tenant's inventory as a free Calling Plan number
/// of the user's country (its usage location; a user without one declares `usageLocation:
/// US` and gets a US number), with the user's Teams configuration. Persons holding the
/// resource account license get none (Microsoft: that license is for resource accounts).
pub fn config_with_numbers(
    users: usize,
    csv_users: usize,
    seed: u64,
    mut numbers: Option<&mut Snapshot>,
) -> (String, String) {
    let mut rng = Rng::new(seed ^ 0xC0FFEE);
    let mut yaml = String::from(
        "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\ndefaultUsageLocation: US\n\
         communicationsCredits:\n  currency: USD\n  minimumBalance: 500.00\n  autoRecharge:\n    \
         enabled: true\n    triggerBelow: 100.00\n    rechargeAmount: 250.00\n  payment:\n    \
         method: creditCard\nprofiles:\n",
    );
    for (name, licenses) in PROFILES {
        let _ = writeln!(yaml, "  {name}: [{}]", licenses.join(", "));
    }
    yaml.push_str("users:\n");
    // The user's number when it calls and numbers are wanted (added to the inventory), and
    // the usage location to declare when the tenant has none (a number needs one).
    let virtual_user = catalogue_sku("PHONESYSTEM_VIRTUALUSER").0;
    let mut number_for = |n: usize, profile: &str| -> Option<(String, &'static str)> {
        let tenant = numbers
            .as_deref_mut()
            .filter(|_| is_calling_profile(profile))?;
        let user = &tenant.users[n];
        // A person holding the resource account license is left without a number: the
        // license is for resource accounts (the plan would refuse a number on it).
        if user
            .assigned_licenses
            .iter()
            .any(|l| l.sku_id.eq_ignore_ascii_case(&virtual_user))
        {
            return None;
        }
        let location = if user.usage_location.is_none() {
            "US"
        } else {
            ""
        };
        Some((add_number(tenant, n), location))
    };
    let inline = users.saturating_sub(csv_users);
    for n in 0..inline {
        let profile = PROFILES[rng.below(PROFILES.len())].0;
        let _ = writeln!(yaml, "  - upn: user{n}@contoso.com\n    profile: {profile}");
        if let Some((number, location)) = number_for(n, profile) {
            let _ = writeln!(yaml, "    phoneNumber: \"{number}\"");
            if !location.is_empty() {
                let _ = writeln!(yaml, "    usageLocation: {location}");
            }
        }
    }
    let mut csv = String::from("upn,usageLocation,profile,licenses,phoneNumber\n");
    if csv_users > 0 {
        yaml.push_str("  - csv: users.csv\n");
        for n in inline..users {
            let profile = PROFILES[rng.below(PROFILES.len())].0;
            let (number, location) = number_for(n, profile).unwrap_or_default();
            let _ = writeln!(csv, "user{n}@contoso.com,{location},{profile},,{number}");
        }
    }
    yaml.push_str("prune: false\n");
    (yaml, csv)
}

/// A free Calling Plan number for user `n` in `tenant`'s inventory, of the user's country
/// (GB or US), and the user's Teams configuration; returns the number.
fn add_number(tenant: &mut Snapshot, n: usize) -> String {
    let gb = tenant.users[n].usage_location.as_deref() == Some("GB");
    let (number, country) = if gb {
        (format!("+4420{n:08}"), "GB")
    } else {
        (format!("+1425{n:07}"), "US")
    };
    let entry = json!({
        "id": format!("n{n}"), "telephoneNumber": number, "numberType": "callingPlan",
        "activationState": "activated", "assignmentStatus": "unassigned",
        "isoCountryCode": country, "capabilities": ["userAssignment"]
    });
    tenant
        .number_assignments
        .push(serde_json::from_value(entry).expect("a valid numberAssignment"));
    let user = &tenant.users[n];
    let config = json!({
        "id": user.id, "userPrincipalName": user.user_principal_name, "accountType": "user",
        "isEnterpriseVoiceEnabled": false, "featureTypes": ["Teams"], "telephoneNumbers": []
    });
    tenant
        .user_configurations
        .push(serde_json::from_value(config).expect("a valid teamsUserConfiguration"));
    number
}

/// The id of [`group_tenant`]'s group, "Sales Phones".
pub const SALES_GROUP_ID: &str = "5a1e5000-0000-4000-8000-000000000001";

/// A tenant for group-based licensing: `users` users (usage location US), Teams Phone
/// (`MCOEV`) and a domestic calling plan (`MCOPSTN1`) with `seats` seats each, audio
/// conferencing with plenty; the first `direct` users hold Teams Phone and the calling plan
/// directly. One group, "Sales Phones", has every user as a member and no license yet.
pub fn group_tenant(users: usize, seats: i64, direct: usize) -> Snapshot {
    let sku = |i: usize, id: &str, part: &str, seats: i64, consumed: usize| {
        json!({
            "skuId": id, "skuPartNumber": part, "appliesTo": "User",
            "capabilityStatus": "Enabled",
            "prepaidUnits": {"enabled": seats, "warning": 0, "suspended": 0, "lockedOut": 0},
            "consumedUnits": consumed,
            "servicePlans": [{"servicePlanId": format!("5e1f0000-0000-4000-8000-{i:012}"),
                              "servicePlanName": part}]
        })
    };
    let direct = direct.min(users);
    let skus = vec![
        sku(0, GROUP_TENANT_SKUS[0], "MCOEV", seats, direct),
        sku(1, GROUP_TENANT_SKUS[1], "MCOPSTN1", seats, direct),
        sku(2, GROUP_TENANT_SKUS[2], "MCOMEETADV", users as i64 * 2, 0),
    ];
    let mut user_values = Vec::with_capacity(users);
    let mut members = Vec::with_capacity(users);
    for n in 0..users {
        let id = format!("00000000-0000-4000-8000-{n:012}");
        let held: Vec<_> = if n < direct {
            vec![GROUP_TENANT_SKUS[0], GROUP_TENANT_SKUS[1]]
        } else {
            vec![]
        };
        user_values.push(json!({
            "id": id,
            "userPrincipalName": format!("user{n}@contoso.com"),
            "usageLocation": "US",
            "assignedLicenses": held.iter().map(|s| json!({"skuId": s, "disabledPlans": []})).collect::<Vec<_>>(),
            "licenseAssignmentStates": held.iter().map(|s| json!({"skuId": s, "assignedByGroup": null, "state": "Active", "error": "None"})).collect::<Vec<_>>(),
        }));
        members.push(id);
    }
    let value = json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": "contoso.onmicrosoft.com"},
        "subscribedSkus": skus,
        "users": user_values,
        "groups": [{"id": SALES_GROUP_ID, "displayName": "Sales Phones",
                    "assignedLicenses": [], "members": members}],
    });
    serde_json::from_value(value).expect("the group tenant is a valid snapshot")
}

/// The SKU ids of [`group_tenant`]: Teams Phone, domestic calling plan, audio conferencing
/// (`MCOEV`, `MCOPSTN1`, `MCOMEETADV` in Microsoft's table; a test checks them there).
pub const GROUP_TENANT_SKUS: [&str; 3] = [
    "e43b5b99-8dfb-405f-9987-dc307f34bcbd",
    "0dab259f-bf13-4952-b7f8-7db8f131b28d",
    "0c266dff-15dd-4b49-8397-2bb16070ed52",
];
