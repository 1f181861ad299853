//! Phone numbers and Teams voice configuration in the live model, and Microsoft's rules for
//! giving a user a number. The planner, the file backend and the emulator all use these.
//!
//! The model is Graph's (read 2026-12-07):
//! - `numberAssignment` (Graph v1.0 "numberAssignment resource type"): one telephone number
//!   of the tenant's inventory, its type, capabilities, country and to whom it is assigned;
//! - `teamsUserConfiguration` ("teamsUserConfiguration resource type"): a Teams user's
//!   `accountType`, `isEnterpriseVoiceEnabled`, `featureTypes` and `telephoneNumbers`;
//!   `id` is the user's Entra object id.
//!
//! The rules, each with its source in docs/licensing.md ("Phone numbers"):
//! - "When assigning a phone number to a user, make sure the phone number and the usage
//!   location of the user are of the same country/region", and "If the user is to be
//!   assigned with a Teams Calling Plan number, the user must also have a Teams Calling Plan
//!   license" (Microsoft Teams, "Assign, change, or remove a phone number for a user");
//! - a number needs the `userAssignment` capability to be given to a user (Graph's List
//!   numberAssignments example filters `capabilities/any(c:c eq 'userAssignment')`);
//! - resource accounts are licensed with the Microsoft Teams Phone Resource Account license
//!   (Microsoft Teams, "Manage resource accounts"), which is not Teams Phone for a person.

use std::collections::HashMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::base::catalog::{Capabilities, Capability};
use crate::base::phone::{NumberType, normalise};

use super::snapshot::Snapshot;

type Extra = Map<String, Value>;

/// Graph's `microsoft.graph.teamsAdministration.numberAssignment`. Enumerations stay text:
/// Graph's are evolvable (`unknownFutureValue`), and a value commcred does not know must
/// survive a rewrite of the snapshot.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NumberAssignment {
    pub id: String,
    /// Always with a leading `+` (Graph's description).
    pub telephone_number: String,
    /// `callingPlan`, `directRouting`, `operatorConnect` (or `internalError`, ...).
    pub number_type: String,
    /// `activated`, `assignmentPending`, `assignmentFailed`, `updatePending`, ...
    #[serde(default)]
    pub activation_state: Option<String>,
    /// `unassigned`, `userAssigned`, `conferenceAssigned`, `voiceApplicationAssigned`, ...
    #[serde(default)]
    pub assignment_status: Option<String>,
    /// The object id of the user or resource account it is assigned to.
    #[serde(default)]
    pub assignment_target_id: Option<String>,
    /// `primary`, `private`, `alternate`.
    #[serde(default)]
    pub assignment_category: Option<String>,
    #[serde(default)]
    pub iso_country_code: Option<String>,
    /// `userAssignment`, `conferenceAssignment`, `voiceApplicationAssignment`, ...
    #[serde(default)]
    pub capabilities: Vec<String>,
    #[serde(default)]
    pub location_id: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl NumberAssignment {
    /// The number's type, when it is one a user can be given.
    pub fn kind(&self) -> Option<NumberType> {
        NumberType::parse_any_case(&self.number_type)
    }

    /// Free: nobody holds it (`assignmentStatus` `unassigned`, or no target).
    pub fn is_free(&self) -> bool {
        self.assignment_target_id
            .as_deref()
            .is_none_or(str::is_empty)
            || self
                .assignment_status
                .as_deref()
                .is_some_and(|s| s.eq_ignore_ascii_case("unassigned"))
    }

    /// Assigned to this object id.
    pub fn is_assigned_to(&self, object_id: &str) -> bool {
        !self.is_free()
            && self
                .assignment_target_id
                .as_deref()
                .is_some_and(|t| t.eq_ignore_ascii_case(object_id))
    }

    /// The number may be assigned to a user (capability `userAssignment`).
    pub fn allows_users(&self) -> bool {
        self.capabilities
            .iter()
            .any(|c| c.eq_ignore_ascii_case("userAssignment"))
    }

    /// `activationState` is `activated` (no state recorded counts as activated).
    pub fn is_activated(&self) -> bool {
        self.activation_state
            .as_deref()
            .is_none_or(|s| s.eq_ignore_ascii_case("activated"))
    }
}

/// Graph's `microsoft.graph.teamsAdministration.teamsUserConfiguration`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct TeamsUserConfiguration {
    /// The user's Entra object id.
    pub id: String,
    #[serde(default)]
    pub user_principal_name: Option<String>,
    /// `user`, `resourceAccount`, `guest`, `sfbOnPremUser`, `unknown`, ...
    #[serde(default = "default_account_type")]
    pub account_type: String,
    #[serde(default)]
    pub is_enterprise_voice_enabled: bool,
    /// "The Teams features enabled for a given user based on licensing or service plan."
    #[serde(default)]
    pub feature_types: Vec<String>,
    #[serde(default)]
    pub telephone_numbers: Vec<AssignedTelephoneNumber>,
    #[serde(flatten)]
    pub extra: Extra,
}

fn default_account_type() -> String {
    "user".to_string()
}

impl TeamsUserConfiguration {
    pub fn is_resource_account(&self) -> bool {
        self.account_type.eq_ignore_ascii_case("resourceAccount")
    }
}

/// Graph's `assignedTelephoneNumber`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct AssignedTelephoneNumber {
    pub telephone_number: String,
    #[serde(default)]
    pub assignment_category: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

/// The key a number is compared by: its E.164 form (Graph shows `+`; a hand-written
/// snapshot may not).
pub fn number_key(text: &str) -> String {
    normalise(text).unwrap_or_else(|| text.trim().to_string())
}

/// Lookups over the numbers and Teams configurations of a snapshot, built once (O(n)).
#[derive(Debug, Default)]
pub struct NumberIndex {
    by_number: HashMap<String, usize>,
    /// Numbers assigned to each object id (lower case).
    by_target: HashMap<String, Vec<usize>>,
    /// `userConfigurations` position by user id (lower case).
    config_by_user: HashMap<String, usize>,
}

impl NumberIndex {
    pub fn build(snapshot: &Snapshot) -> NumberIndex {
        let mut index = NumberIndex {
            by_number: HashMap::with_capacity(snapshot.number_assignments.len()),
            by_target: HashMap::new(),
            config_by_user: HashMap::with_capacity(snapshot.user_configurations.len()),
        };
        for (i, n) in snapshot.number_assignments.iter().enumerate() {
            index.by_number.insert(number_key(&n.telephone_number), i);
            if !n.is_free()
                && let Some(t) = &n.assignment_target_id
            {
                index
                    .by_target
                    .entry(t.to_ascii_lowercase())
                    .or_default()
                    .push(i);
            }
        }
        for (i, c) in snapshot.user_configurations.iter().enumerate() {
            index.config_by_user.insert(c.id.to_ascii_lowercase(), i);
        }
        index
    }

    pub fn number(&self, text: &str) -> Option<usize> {
        self.by_number.get(&number_key(text)).copied()
    }

    /// The numbers assigned to an object (user or resource account), in inventory order.
    pub fn of_target(&self, object_id: &str) -> &[usize] {
        self.by_target
            .get(&object_id.to_ascii_lowercase())
            .map_or(&[], Vec::as_slice)
    }

    pub fn config(&self, user_id: &str) -> Option<usize> {
        self.config_by_user
            .get(&user_id.to_ascii_lowercase())
            .copied()
    }

    fn unlink(&mut self, object_id: &str, number: usize) {
        if let Some(list) = self.by_target.get_mut(&object_id.to_ascii_lowercase()) {
            list.retain(|&n| n != number);
        }
    }

    fn link(&mut self, object_id: &str, number: usize) {
        let list = self
            .by_target
            .entry(object_id.to_ascii_lowercase())
            .or_default();
        if !list.contains(&number) {
            list.push(number);
        }
    }
}

/// The user's Teams account type from its `teamsUserConfiguration`; a user Teams does not
/// list is taken as a person (`user`).
pub fn is_resource_account(snapshot: &Snapshot, index: &NumberIndex, user_id: &str) -> bool {
    index
        .config(user_id)
        .is_some_and(|c| snapshot.user_configurations[c].is_resource_account())
}

/// What a user's licenses give for calling, by account type: the Teams Phone Resource
/// Account license is Teams Phone for a resource account only ("Manage resource
/// accounts"); a person holding it does not have Teams Phone.
pub fn voice_capabilities(caps: Capabilities, resource_account: bool) -> Capabilities {
    if resource_account {
        return caps.as_held();
    }
    caps.iter()
        .filter(|c| *c != Capability::TeamsPhoneResourceAccount)
        .collect()
}

/// The three numbers nearest to `wanted` in the inventory (by digits, then by value), for
/// "not in the inventory" errors. One pass over the inventory.
pub fn nearest_numbers(snapshot: &Snapshot, wanted: &str) -> Vec<String> {
    let key = number_key(wanted);
    let mut best: Vec<(usize, u128, &str)> = Vec::with_capacity(4);
    let value = |s: &str| -> u128 {
        s.trim_start_matches('+')
            .parse::<u128>()
            .unwrap_or(u128::MAX)
    };
    let want_value = value(&key);
    for n in &snapshot.number_assignments {
        let theirs = number_key(&n.telephone_number);
        let distance = digit_distance(&key, &theirs);
        let gap = value(&theirs).abs_diff(want_value);
        best.push((distance, gap, &n.telephone_number));
        best.sort_unstable_by_key(|(d, g, _)| (*d, *g));
        best.truncate(3);
    }
    best.into_iter().map(|(_, _, n)| n.to_string()).collect()
}

/// Edit distance between two short digit strings.
fn digit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut row: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut prev = row[0];
        row[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cur = row[j + 1];
            row[j + 1] = (prev + usize::from(ca != *cb)).min(row[j] + 1).min(cur + 1);
            prev = cur;
        }
    }
    row[b.len()]
}

/// A rule a number breaks for the user who would hold it, before anything is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberProblem {
    /// The number lacks the `userAssignment` capability.
    NotForUsers,
    /// The user would not hold Teams Phone (a resource account license counts for
    /// resource accounts only).
    NeedsTeamsPhone,
    /// A Calling Plan number on a user without a calling plan.
    NeedsCallingPlan,
    /// The number's country is not the user's usage location.
    CountryMismatch,
}

/// Microsoft's rules for `entry` held by a user with `voice` capabilities (see
/// [`voice_capabilities`]) and usage location `location`, every broken one in the order an
/// admin fixes them.
pub fn number_problems(
    entry: &NumberAssignment,
    kind: NumberType,
    voice: Capabilities,
    location: Option<&str>,
) -> Vec<NumberProblem> {
    let mut out = Vec::new();
    if !entry.allows_users() {
        out.push(NumberProblem::NotForUsers);
    }
    if !voice.has(Capability::TeamsPhone) {
        out.push(NumberProblem::NeedsTeamsPhone);
    }
    if kind == NumberType::CallingPlan && !voice.calling_plan() {
        out.push(NumberProblem::NeedsCallingPlan);
    }
    if entry
        .iso_country_code
        .as_deref()
        .is_some_and(|c| !c.is_empty() && location != Some(c))
    {
        out.push(NumberProblem::CountryMismatch);
    }
    out
}

/// Why a number change is refused, in the words Microsoft uses where it has any (sources
/// in docs/graph.md, "Phone numbers").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NumberRuleError {
    pub kind: NumberRuleKind,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumberRuleKind {
    NotFound,
    AlreadyAssigned,
    NotLicensed,
    NotForUsers,
    CountryMismatch,
    UnknownUser,
}

impl std::fmt::Display for NumberRuleError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

fn refuse(kind: NumberRuleKind, message: String) -> NumberRuleError {
    NumberRuleError { kind, message }
}

impl Snapshot {
    /// Graph's `assignNumber` carried out: checks the inventory, the number's capability and
    /// holder, the user's licenses and usage location, then assigns the number as `primary`
    /// and records it in the user's `teamsUserConfiguration` (created when Teams did not
    /// list the user yet). `user` is the position in `users`; `caps` what its licenses give.
    // Long: Graph's checks in the order a caller meets them, then the one change.
    pub fn assign_number(
        &mut self,
        index: &mut NumberIndex,
        user: usize,
        caps: Capabilities,
        number: &str,
        kind: NumberType,
    ) -> Result<(), NumberRuleError> {
        let user_id = self.users[user].id.clone();
        let not_found = || {
            refuse(
                NumberRuleKind::NotFound,
                format!(
                    "Telephone Number '{number}' is not found from tenant '{}'",
                    self.tenant.id
                ),
            )
        };
        let Some(n) = index.number(number) else {
            return Err(not_found());
        };
        let entry = &self.number_assignments[n];
        if entry.kind() != Some(kind) {
            return Err(not_found());
        }
        if !entry.allows_users() {
            return Err(refuse(
                NumberRuleKind::NotForUsers,
                format!(
                    "Telephone Number '{number}' does not have the userAssignment capability and cannot be assigned to a user"
                ),
            ));
        }
        if entry.is_assigned_to(&user_id) {
            return Ok(());
        }
        if !entry.is_free() {
            return Err(refuse(
                NumberRuleKind::AlreadyAssigned,
                format!("Telephone Number '{number}' has already been assigned to another user"),
            ));
        }
        let resource = is_resource_account(self, index, &user_id);
        let voice = voice_capabilities(caps, resource);
        let licensed = voice.has(Capability::TeamsPhone)
            && (kind != NumberType::CallingPlan || voice.calling_plan());
        if !licensed {
            return Err(refuse(
                NumberRuleKind::NotLicensed,
                format!(
                    "User '{user_id}' lacks appropriate licenses to assign a '{}' number",
                    kind.powershell()
                ),
            ));
        }
        if let Some(country) = entry.iso_country_code.as_deref().filter(|c| !c.is_empty())
            && self.users[user].usage_location.as_deref() != Some(country)
        {
            return Err(refuse(
                NumberRuleKind::CountryMismatch,
                format!(
                    "Telephone Number '{number}' is in country '{country}' but the usage location of user '{user_id}' is '{}'",
                    self.users[user].usage_location.as_deref().unwrap_or("")
                ),
            ));
        }
        let entry = &mut self.number_assignments[n];
        entry.assignment_target_id = Some(user_id.clone());
        entry.assignment_status = Some(
            if resource {
                "voiceApplicationAssigned"
            } else {
                "userAssigned"
            }
            .to_string(),
        );
        entry.assignment_category = Some("primary".to_string());
        entry.activation_state = Some("activated".to_string());
        let shown = entry.telephone_number.clone();
        index.link(&user_id, n);
        let config = self.config_for(index, user);
        config.is_enterprise_voice_enabled = true;
        if !config
            .telephone_numbers
            .iter()
            .any(|t| number_key(&t.telephone_number) == number_key(&shown))
        {
            config.telephone_numbers.push(AssignedTelephoneNumber {
                telephone_number: shown,
                assignment_category: Some("primary".to_string()),
                extra: Extra::new(),
            });
        }
        Ok(())
    }

    /// Graph's `unassignNumber` carried out: the number becomes free and leaves its holder's
    /// `telephoneNumbers`.
    pub fn unassign_number(
        &mut self,
        index: &mut NumberIndex,
        number: &str,
        kind: NumberType,
    ) -> Result<(), NumberRuleError> {
        let Some(n) = index
            .number(number)
            .filter(|&n| self.number_assignments[n].kind() == Some(kind))
        else {
            return Err(refuse(
                NumberRuleKind::NotFound,
                format!(
                    "Telephone Number '{number}' is not found from tenant '{}'",
                    self.tenant.id
                ),
            ));
        };
        let entry = &mut self.number_assignments[n];
        let holder = entry.assignment_target_id.take();
        entry.assignment_status = Some("unassigned".to_string());
        entry.assignment_category = None;
        let key = number_key(&entry.telephone_number);
        if let Some(holder) = holder {
            index.unlink(&holder, n);
            if let Some(c) = index.config(&holder) {
                self.user_configurations[c]
                    .telephone_numbers
                    .retain(|t| number_key(&t.telephone_number) != key);
            }
        }
        Ok(())
    }

    /// The user's Teams configuration, created (as a person with no numbers) when Teams
    /// did not list the user.
    fn config_for(&mut self, index: &mut NumberIndex, user: usize) -> &mut TeamsUserConfiguration {
        let id = self.users[user].id.clone();
        let c = match index.config(&id) {
            Some(c) => c,
            None => {
                self.user_configurations.push(TeamsUserConfiguration {
                    id: id.clone(),
                    user_principal_name: Some(self.users[user].user_principal_name.clone()),
                    account_type: default_account_type(),
                    is_enterprise_voice_enabled: false,
                    feature_types: Vec::new(),
                    telephone_numbers: Vec::new(),
                    extra: Extra::new(),
                });
                let c = self.user_configurations.len() - 1;
                index.config_by_user.insert(id.to_ascii_lowercase(), c);
                c
            }
        };
        &mut self.user_configurations[c]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_numbers_are_close_in_digits() {
        let mut snapshot: Snapshot = serde_json::from_value(serde_json::json!({
            "tenant": {"id": "t", "domain": "contoso.onmicrosoft.com"},
            "numberAssignments": [
                {"id": "1", "telephoneNumber": "+14255550100", "numberType": "callingPlan"},
                {"id": "2", "telephoneNumber": "+14255550199", "numberType": "callingPlan"},
                {"id": "3", "telephoneNumber": "+442079460000", "numberType": "callingPlan"},
                {"id": "4", "telephoneNumber": "+14255550101", "numberType": "callingPlan"}
            ]
        }))
        .unwrap();
        let near = nearest_numbers(&snapshot, "+14255550102");
        assert_eq!(near, ["+14255550101", "+14255550100", "+14255550199"]);
        snapshot.number_assignments.clear();
        assert!(nearest_numbers(&snapshot, "+1").is_empty());
    }

    #[test]
    fn a_person_with_the_resource_account_license_has_no_teams_phone() {
        let caps: Capabilities = [Capability::TeamsPhoneResourceAccount]
            .into_iter()
            .collect();
        assert!(!voice_capabilities(caps, false).has(Capability::TeamsPhone));
        assert!(voice_capabilities(caps, true).has(Capability::TeamsPhone));
    }
}
