//! Phone numbers in the plan: which number each user gets, checked before anything changes
//! against the inventory and Microsoft's rules (`tenant::numbers`, sources in
//! docs/licensing.md "Phone numbers"), and numbers moving between users in one plan.
//! Linear: the inventory is indexed once; a number moving is settled after every user has
//! been seen, so the order users are listed in does not matter.

use std::collections::{HashMap, HashSet};

use crate::base::catalog::{Capabilities, Capability};
use crate::base::phone::NumberType;
use crate::config::{DesiredUser, Origin};
use crate::tenant::numbers::{
    NumberAssignment, NumberIndex, NumberProblem, is_resource_account, nearest_numbers,
    number_problems, voice_capabilities,
};
use crate::tenant::{Snapshot, TenantIndex};

use super::codes::Code;
use super::model::{NumberChange, PlanWarning, PlannedNumber, UserChange};
use super::problems::PlanProblem;

/// The plan's view of the number inventory while users are planned.
pub(super) struct NumberPlan<'a> {
    live: &'a Snapshot,
    index: NumberIndex,
    /// Inventory position -> the user (position in `users`) who gets it, and where it is
    /// declared.
    claims: HashMap<usize, (usize, Origin)>,
    /// Numbers their current holder gives up in this plan.
    released: HashSet<usize>,
    prune: bool,
}

/// What the rest of the plan decided for the user, that its number depends on.
pub(super) struct UserAfter<'a> {
    /// Capabilities of the user's licenses after the plan.
    pub caps: Capabilities,
    /// Capabilities of the SKUs the plan assigns it.
    pub added: Capabilities,
    /// The usage location after the plan.
    pub location: Option<&'a str>,
}

impl<'a> NumberPlan<'a> {
    pub fn new(live: &'a Snapshot, prune: bool) -> NumberPlan<'a> {
        NumberPlan {
            live,
            index: NumberIndex::build(live),
            claims: HashMap::new(),
            released: HashSet::new(),
            prune,
        }
    }

    /// Teams lists the user as a person (its Teams user configuration says `user`). False
    /// for a resource account and for a user Teams does not list (the configurations are
    /// read only for configs with numbers), so licensing without numbers keeps treating the
    /// resource account license as Teams Phone.
    pub fn is_known_person(&self, user: usize) -> bool {
        let id = &self.live.users[user].id;
        self.index.config(id).is_some() && !is_resource_account(self.live, &self.index, id)
    }

    /// The numbers assigned to the user now, sorted: what the plan observed.
    pub fn observed(&self, user: usize) -> Vec<String> {
        super::observe::numbers_of(self.live, &self.index, &self.live.users[user].id)
    }

    /// The user's own number (the first one assigned to it), with its type.
    fn current(&self, user: usize) -> Option<(usize, PlannedNumber)> {
        let &n = self.index.of_target(&self.live.users[user].id).first()?;
        let entry = &self.live.number_assignments[n];
        Some((
            n,
            PlannedNumber {
                number: entry.telephone_number.clone(),
                number_type: entry.kind()?,
            },
        ))
    }

    /// A listed user: its declared number checked and planned, or its number kept (or
    /// removed under `prune`).
    // Long: Microsoft's rules for one number in the order an admin fixes them (inventory,
    // type, capability, licenses, country), each its own located problem.
    pub fn plan_listed(
        &mut self,
        want: &DesiredUser,
        user: usize,
        after: &UserAfter,
        change: &mut UserChange,
        problems: &mut Vec<PlanProblem>,
        warnings: &mut Vec<PlanWarning>,
    ) {
        let live = self.live;
        let user_id = &live.users[user].id;
        let upn = &want.upn;
        let resource = is_resource_account(live, &self.index, user_id);
        if resource && after.added.has(Capability::TeamsPhone) {
            problems.push(PlanProblem::new(
                Code::ResourceAccountLicense.as_str(),
                format!(
                    "{}: {upn} is a resource account: it is licensed with the Microsoft Teams Phone Resource Account license (PHONESYSTEM_VIRTUALUSER), not Teams Phone Standard",
                    want.origin
                ),
                "replace phoneSystem with PHONESYSTEM_VIRTUALUSER in this account's licenses (resource account licenses are zero-cost with Teams Phone: see Microsoft's \"Manage resource accounts\")",
            ));
        }
        let voice = voice_capabilities(after.caps, resource);
        let current = self.current(user);
        let Some(declared) = &want.phone else {
            if self.prune
                && let Some((n, from)) = current
            {
                self.released.insert(n);
                change.number = Some(NumberChange {
                    from: Some(from),
                    to: None,
                });
            } else if let Some((_, kept)) = &current
                && !change.remove.is_empty()
                && kept.number_type == NumberType::CallingPlan
                && !voice.calling_plan()
            {
                problems.push(PlanProblem::new(
                    Code::NumberNeedsCallingPlan.as_str(),
                    format!(
                        "{}: {upn} keeps Calling Plan number {} but would no longer hold a calling plan",
                        want.origin, kept.number
                    ),
                    "keep a calling plan in the user's licenses, or remove the number first (Microsoft: a Calling Plan number needs a Calling Plan license)",
                ));
            }
            return;
        };
        let at = &declared.origin;
        let number = &declared.number;
        let Some(n) = self.index.number(number) else {
            let near = nearest_numbers(live, number);
            let help = if near.is_empty() {
                "the tenant's inventory has no numbers: acquire or port numbers first (Teams admin center > Voice > Phone numbers), or fix the number".to_string()
            } else {
                format!(
                    "the nearest numbers in the inventory are {}; fix the number, or acquire it first",
                    near.join(", ")
                )
            };
            problems.push(PlanProblem::new(
                Code::NumberNotFound.as_str(),
                format!("{at}: {upn}: {number} is not in the tenant's phone number inventory"),
                help,
            ));
            return;
        };
        let entry = &live.number_assignments[n];
        let Some(inventory_type) = entry.kind() else {
            problems.push(PlanProblem::new(
                Code::NumberTypeMismatch.as_str(),
                format!(
                    "{at}: {upn}: {number} has number type `{}` in the inventory, which cannot be assigned to a user",
                    entry.number_type
                ),
                "choose a callingPlan, directRouting or operatorConnect number",
            ));
            return;
        };
        let kind = match declared.number_type {
            Some(kind) => kind,
            None if voice.calling_plan() => NumberType::CallingPlan,
            None => {
                problems.push(PlanProblem::new(
                    Code::NumberTypeRequired.as_str(),
                    format!(
                        "{at}: {upn}: `numberType` is needed for {number}: the user holds no calling plan after the plan, so it is not a callingPlan number by default"
                    ),
                    format!(
                        "add `numberType: {inventory_type}` (the inventory's type for this number)"
                    ),
                ));
                return;
            }
        };
        if kind != inventory_type {
            problems.push(PlanProblem::new(
                Code::NumberTypeMismatch.as_str(),
                format!(
                    "{at}: {upn}: {number} is a {inventory_type} number in the inventory, not {kind}{}",
                    if declared.number_type.is_none() {
                        " (the default for a user with a calling plan)"
                    } else {
                        ""
                    }
                ),
                format!("write `numberType: {inventory_type}`, or choose a {kind} number"),
            ));
            return;
        }
        for problem in number_problems(entry, kind, voice, after.location) {
            problems.push(located(
                problem, at, upn, number, kind, entry, after, resource,
            ));
        }
        if kind != NumberType::CallingPlan && voice.calling_plan() {
            warnings.push(PlanWarning {
                code: Code::CallingPlanUnused.as_str().into(),
                upn: Some(upn.clone()),
                message: format!(
                    "{upn} gets {kind} number {number} but holds a calling plan: {kind} users place PSTN calls through {}, so the calling plan is paid for nothing",
                    if kind == NumberType::DirectRouting {
                        "their session border controller"
                    } else {
                        "their operator"
                    }
                ),
                assignment: None,
            });
        }
        if entry.is_assigned_to(user_id) {
            return;
        }
        if let Some((old, _)) = &current {
            self.released.insert(*old);
        }
        self.claims.insert(n, (user, at.clone()));
        change.number = Some(NumberChange {
            from: current.map(|(_, from)| from),
            to: Some(PlannedNumber {
                number: entry.telephone_number.clone(),
                number_type: kind,
            }),
        });
    }

    /// A user not listed, under `prune: true`: a person's number is removed. Resource
    /// accounts keep theirs: they are service numbers of auto attendants and call queues,
    /// which commcred manages only when the account is listed.
    pub fn plan_pruned(&mut self, user: usize, change: &mut UserChange) {
        if !self.prune || is_resource_account(self.live, &self.index, &self.live.users[user].id) {
            return;
        }
        if let Some((n, from)) = self.current(user) {
            self.released.insert(n);
            change.number = Some(NumberChange {
                from: Some(from),
                to: None,
            });
        }
    }

    /// Numbers claimed that another object holds and does not give up in this plan.
    pub fn finish(self, index: &TenantIndex) -> Vec<PlanProblem> {
        let live = self.live;
        let mut taken: Vec<(&Origin, PlanProblem)> = Vec::new();
        for (&n, (user, origin)) in &self.claims {
            let entry = &live.number_assignments[n];
            if entry.is_free() || self.released.contains(&n) {
                continue;
            }
            let holder_id = entry.assignment_target_id.as_deref().unwrap_or_default();
            let holder = index
                .user_by_id(holder_id)
                .map_or(holder_id, |h| live.users[h].user_principal_name.as_str());
            let upn = &live.users[*user].user_principal_name;
            taken.push((
                origin,
                PlanProblem::new(
                    Code::NumberTaken.as_str(),
                    format!(
                        "{origin}: {upn}: {} is assigned to {holder} ({}) and this plan does not take it from there",
                        entry.telephone_number,
                        entry.assignment_status.as_deref().unwrap_or("assigned")
                    ),
                    format!(
                        "give {holder} another phoneNumber in commcred.yaml (the number then moves in this apply), or unassign it from {holder} first"
                    ),
                ),
            ));
        }
        taken.sort_by_key(|(origin, _)| (origin.file.clone(), origin.line, origin.column));
        taken.into_iter().map(|(_, p)| p).collect()
    }
}

/// A broken number rule as a plan error at the user's `phoneNumber`, with Microsoft's
/// reason and what to do.
// Long: one message and help per rule; the wording is the diagnostic's contract.
#[allow(clippy::too_many_arguments)]
fn located(
    problem: NumberProblem,
    at: &Origin,
    upn: &str,
    number: &str,
    kind: NumberType,
    entry: &NumberAssignment,
    after: &UserAfter,
    resource: bool,
) -> PlanProblem {
    match problem {
        NumberProblem::NotForUsers => PlanProblem::new(
            Code::NumberNotForUsers.as_str(),
            format!(
                "{at}: {upn}: {number} cannot be assigned to a user: its capabilities are {} (no userAssignment)",
                if entry.capabilities.is_empty() {
                    "none".to_string()
                } else {
                    entry.capabilities.join(", ")
                }
            ),
            "choose a user (subscriber) number; service numbers are for conferencing bridges and resource accounts",
        ),
        NumberProblem::NeedsTeamsPhone => PlanProblem::new(
            Code::NumberNeedsTeamsPhone.as_str(),
            format!(
                "{at}: {upn} would not hold Teams Phone{}, which every {kind} number needs",
                if after.caps.has(Capability::TeamsPhoneResourceAccount) && !resource {
                    " (the Teams Phone Resource Account license is for resource accounts, not people)"
                } else {
                    ""
                }
            ),
            "add phoneSystem (Teams Phone) to the user's licenses or profile",
        ),
        NumberProblem::NeedsCallingPlan => PlanProblem::new(
            Code::NumberNeedsCallingPlan.as_str(),
            format!(
                "{at}: {upn}: {number} is a Calling Plan number but {upn} would hold no calling plan"
            ),
            "add a calling plan (e.g. domesticCallingPlan) to the user's licenses, or choose a directRouting/operatorConnect number (Microsoft: a Calling Plan number needs a Calling Plan license)",
        ),
        NumberProblem::CountryMismatch => {
            let country = entry.iso_country_code.as_deref().unwrap_or_default();
            PlanProblem::new(
                Code::NumberCountryMismatch.as_str(),
                format!(
                    "{at}: {upn}: {number} is a number of {country} but the user's usage location is {}",
                    after.location.unwrap_or("not set")
                ),
                format!(
                    "set `usageLocation: {country}` on the user, or choose a number of {} (Microsoft: the number and the user's usage location must be of the same country/region)",
                    after.location.unwrap_or("its country")
                ),
            )
        }
    }
}
