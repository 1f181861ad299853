use super::*;
use crate::tenant::rules::holdings;
use crate::testkit::{GROUP_TENANT_SKUS, SALES_GROUP_ID, group_tenant};

fn license(sku: &str) -> AssignedLicense {
    AssignedLicense {
        sku_id: sku.to_string(),
        disabled_plans: vec![],
        extra: Default::default(),
    }
}

fn phone_and_plan() -> Vec<AssignedLicense> {
    vec![license(GROUP_TENANT_SKUS[0]), license(GROUP_TENANT_SKUS[1])]
}

fn assign(s: &mut Snapshot, add: &[AssignedLicense], remove: &[String]) {
    let index = TenantIndex::build(s);
    let g = s.group_by_id(SALES_GROUP_ID).unwrap();
    s.set_group_licenses(&index, g, add, remove).unwrap();
    s.process_group_licenses(&index, GroupRetry::Group(SALES_GROUP_ID));
}

fn state_of<'a>(s: &'a Snapshot, user: usize, sku: &str) -> Vec<&'a LicenseAssignmentState> {
    s.users[user]
        .license_assignment_states
        .as_deref()
        .unwrap_or_default()
        .iter()
        .filter(|st| st.sku_id == sku)
        .collect()
}

#[test]
fn members_beyond_the_seats_get_count_violation() {
    let mut s = group_tenant(1_500, 1_000, 0);
    assign(&mut s, &phone_and_plan(), &[]);
    let errors = s.group_errors();
    // 500 members find no seat of either license: both are in CountViolation, and neither
    // license of the group is assigned to them (Entra ID assigns all of a group's licenses
    // to a member, or none).
    let count = errors.iter().filter(|e| e.3 == COUNT_VIOLATION).count();
    assert_eq!((count, errors.len()), (1_000, 1_000));
    assert_eq!(s.subscribed_skus[0].consumed_units, 1_000);
    assert_eq!(s.subscribed_skus[1].consumed_units, 1_000);
    let last = state_of(&s, 1_499, GROUP_TENANT_SKUS[0]);
    assert_eq!(last[0].state.as_deref(), Some("Error"));
    assert!(s.users[1_499].assigned_licenses.is_empty());
    let first = state_of(&s, 0, GROUP_TENANT_SKUS[0]);
    assert_eq!(first[0].assigned_by_group.as_deref(), Some(SALES_GROUP_ID));
    assert!(first[0].is_active());
}

#[test]
fn a_member_whose_calling_plan_finds_no_seat_holds_none_of_the_groups_licenses() {
    // Teams Phone has seats for everyone, the calling plan for 3 of 5.
    let mut s = group_tenant(5, 5, 0);
    s.subscribed_skus[1].prepaid_units.enabled = 3;
    assign(&mut s, &phone_and_plan(), &[]);
    for user in 3..5 {
        let phone = state_of(&s, user, GROUP_TENANT_SKUS[0]);
        let plan = state_of(&s, user, GROUP_TENANT_SKUS[1]);
        assert_eq!(phone[0].state.as_deref(), Some("Error"), "user {user}");
        assert_eq!(plan[0].error.as_deref(), Some(COUNT_VIOLATION));
        assert_eq!(
            phone[0].error.as_deref(),
            Some(COUNT_VIOLATION),
            "held back by the plan"
        );
        assert!(s.users[user].assigned_licenses.is_empty(), "user {user}");
    }
    assert_eq!(
        s.subscribed_skus[0].consumed_units, 3,
        "no Teams Phone seat taken alone"
    );
    assert_eq!(s.subscribed_skus[1].consumed_units, 3);
    // A seat freed later: reprocessing the member activates both together.
    s.subscribed_skus[1].prepaid_units.enabled = 4;
    let index = TenantIndex::build(&s);
    assert!(s.process_group_licenses(&index, GroupRetry::User(3)));
    assert_eq!(s.users[3].assigned_licenses.len(), 2);
    assert_eq!(s.subscribed_skus[0].consumed_units, 4);
}

#[test]
fn a_group_with_a_calling_plan_and_no_teams_phone_is_refused_in_graphs_words() {
    let mut s = group_tenant(3, 10, 0);
    let index = TenantIndex::build(&s);
    let g = s.group_by_id(SALES_GROUP_ID).unwrap();
    let before = s.clone();
    let e = s
        .set_group_licenses(&index, g, &[license(GROUP_TENANT_SKUS[1])], &[])
        .unwrap_err();
    assert_eq!(e.kind, RuleKind::DependentServicePlan);
    assert!(
        e.message.starts_with(GROUP_DEPENDENCY_MESSAGE),
        "{}",
        e.message
    );
    assert!(e.message.contains("MCOPSTN1"), "{}", e.message);
    assert_eq!(s, before, "nothing changed");
    // Members holding Teams Phone directly do not help: the prerequisite must be in the group.
    let mut direct = group_tenant(3, 10, 3);
    let index = TenantIndex::build(&direct);
    assert!(
        direct
            .set_group_licenses(&index, g, &[license(GROUP_TENANT_SKUS[1])], &[])
            .is_err()
    );
    // With Teams Phone beside it, accepted; removing Teams Phone alone is then refused.
    s.set_group_licenses(&index, g, &phone_and_plan(), &[])
        .unwrap();
    assert!(
        s.set_group_licenses(&index, g, &[], &[GROUP_TENANT_SKUS[0].to_string()])
            .is_err()
    );
}

#[test]
fn one_seat_per_user_and_sku_whatever_the_paths() {
    let mut s = group_tenant(10, 10, 4);
    assign(&mut s, &phone_and_plan(), &[]);
    assert!(s.group_errors().is_empty());
    assert_eq!(s.subscribed_skus[0].consumed_units, 10);
    let index = TenantIndex::build(&s);
    let held = holdings(&s.users[0], &s, &index);
    let phone = held.iter().find(|h| h.sku == Some(0)).unwrap();
    assert!(phone.direct && phone.groups == [SALES_GROUP_ID]);
    // Removing the direct copies keeps the seats: the group still assigns them.
    let both = [
        GROUP_TENANT_SKUS[0].to_string(),
        GROUP_TENANT_SKUS[1].to_string(),
    ];
    s.assign_license(&index, 0, &[], &both).unwrap();
    assert_eq!(s.subscribed_skus[0].consumed_units, 10);
    let held = holdings(&s.users[0], &s, &index);
    assert!(
        held.iter()
            .all(|h| !h.direct && h.groups == [SALES_GROUP_ID])
    );
}

#[test]
fn removing_the_group_license_removes_inherited_assignments_and_frees_seats() {
    let mut s = group_tenant(20, 20, 0);
    assign(&mut s, &phone_and_plan(), &[]);
    assert_eq!(s.subscribed_skus[0].consumed_units, 20);
    assign(
        &mut s,
        &[],
        &[
            GROUP_TENANT_SKUS[0].to_string(),
            GROUP_TENANT_SKUS[1].to_string(),
        ],
    );
    assert_eq!(s.subscribed_skus[0].consumed_units, 0);
    assert!(s.users.iter().all(|u| u.assigned_licenses.is_empty()));
    assert!(s.group_errors().is_empty());
}

#[test]
fn reprocessing_a_user_after_seats_are_freed_activates_it() {
    let mut s = group_tenant(5, 4, 0);
    assign(&mut s, &phone_and_plan(), &[]);
    assert_eq!(s.group_errors().len(), 2);
    // An error stays until the member is reprocessed, even once a seat is free.
    s.subscribed_skus[0].prepaid_units.enabled = 5;
    s.subscribed_skus[1].prepaid_units.enabled = 5;
    let index = TenantIndex::build(&s);
    assert!(!s.process_group_licenses(&index, GroupRetry::NewOnly));
    assert_eq!(s.group_errors().len(), 2);
    assert!(s.process_group_licenses(&index, GroupRetry::User(4)));
    assert!(s.group_errors().is_empty());
    assert_eq!(s.subscribed_skus[0].consumed_units, 5);
    assert_eq!(s.users[4].assigned_licenses.len(), 2);
}

#[test]
fn a_second_calling_plan_is_processed_without_an_invented_conflict() {
    // No Microsoft page says two Teams calling plans exclude each other (docs/licensing.md),
    // so processing does not refuse one: Graph answers for itself.
    let mut s = group_tenant(3, 10, 1);
    // User 0 holds MCOPSTN1 directly; the group gives Teams Phone and an international plan.
    let intl = "d3b4fe1f-9992-4930-8acb-ca6ec609365e";
    s.subscribed_skus.push(
        serde_json::from_value(serde_json::json!({
            "skuId": intl, "skuPartNumber": "MCOPSTN2", "prepaidUnits": {"enabled": 10},
            "servicePlans": [{"servicePlanId": "5e1f0000-0000-4000-8000-000000000009",
                              "servicePlanName": "MCOPSTN2"}]
        }))
        .unwrap(),
    );
    assign(&mut s, &[license(GROUP_TENANT_SKUS[0]), license(intl)], &[]);
    assert!(s.group_errors().is_empty(), "{:?}", s.group_errors());
    let held: Vec<&str> = s.users[0]
        .assigned_licenses
        .iter()
        .map(|a| a.sku_id.as_str())
        .collect();
    assert!(
        held.contains(&intl) && held.contains(&GROUP_TENANT_SKUS[1]),
        "{held:?}"
    );
}

#[test]
fn an_active_with_error_assignment_gives_nothing() {
    // Decision: only `Active` (or no state) provides; `ActiveWithError` holds no seat.
    let state = LicenseAssignmentState {
        sku_id: GROUP_TENANT_SKUS[0].to_string(),
        assigned_by_group: Some(SALES_GROUP_ID.to_string()),
        state: Some("ActiveWithError".to_string()),
        error: Some("MutuallyExclusiveViolation".to_string()),
        ..Default::default()
    };
    assert!(!state.is_active());
    assert_eq!(state.error_kind(), Some(MUTUALLY_EXCLUSIVE_VIOLATION));
}

#[test]
fn leaving_the_group_removes_the_inherited_assignment() {
    let mut s = group_tenant(3, 10, 0);
    assign(&mut s, &phone_and_plan(), &[]);
    s.groups[0].members.remove(2);
    let index = TenantIndex::build(&s);
    assert!(s.process_group_licenses(&index, GroupRetry::NewOnly));
    assert!(s.users[2].assigned_licenses.is_empty());
    assert_eq!(s.subscribed_skus[0].consumed_units, 2);
}

#[test]
fn the_group_tenant_uses_the_sku_ids_of_microsofts_table() {
    let catalog = crate::base::catalog::catalog();
    for (id, part) in GROUP_TENANT_SKUS
        .iter()
        .zip(["MCOEV", "MCOPSTN1", "MCOMEETADV"])
    {
        assert!(
            catalog.sku(part).unwrap().sku_id.eq_ignore_ascii_case(id),
            "{part}"
        );
    }
}
