//! `group_changes` of the JSON plan document (format 1.2): the managed groups the plan changes
//! or reports members in error for.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Action, LicenseDoc, license_doc};
use crate::plan::SkuRef;
use crate::plan::groups::{
    GroupChange, GroupLicenseRef, MemberError, MemberRef, Migration, SeatImpact,
};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupChangeDoc {
    /// `["update"]` when the group's licenses change or members are processed;
    /// `["no-op"]` when the group is listed only for its members in error.
    pub actions: Vec<Action>,
    /// The group's object id: apply addresses the group by it.
    pub group_id: String,
    pub display_name: String,
    /// The group's license SKU ids when planned (lower case, sorted); apply refuses when
    /// they changed.
    pub observed_sku_ids: Vec<String>,
    /// Members (transitive), as Entra ID licenses them.
    pub members: usize,
    /// Licenses added to (`["create"]`) or removed from (`["delete"]`) the group.
    pub licenses: Vec<GroupLicenseDoc>,
    /// Per added license: members who would newly consume a seat.
    pub seat_impact: Vec<SeatImpactDoc>,
    /// Members whose inherited assignment from this group is in error.
    pub members_in_error: Vec<MemberErrorDoc>,
    /// Members in `CountViolation` reprocessed because the plan leaves them a seat.
    pub reprocess: Vec<MemberDoc>,
    /// Direct copies removed from members once this group's assignment is active for them;
    /// a member whose inherited assignment failed keeps its direct license.
    pub remove_direct_after_processing: Vec<MigrationDoc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GroupLicenseDoc {
    pub actions: Vec<Action>,
    pub license: LicenseDoc,
    /// Service plan ids switched off in the group's assignment.
    pub disabled_plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SeatImpactDoc {
    pub license: LicenseDoc,
    pub new_seats: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberDoc {
    pub user_id: String,
    pub upn: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MemberErrorDoc {
    pub user_id: String,
    pub upn: String,
    pub license: LicenseDoc,
    /// Graph's `licenseAssignmentState.error`: `CountViolation`,
    /// `MutuallyExclusiveViolation`, `DependencyViolation`,
    /// `ProhibitedInUsageLocationViolation`, `UniquenessViolation` or `Other`.
    pub error: String,
    /// What fixes it.
    pub fix: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MigrationDoc {
    pub user_id: String,
    pub upn: String,
    pub licenses: Vec<LicenseDoc>,
}

pub(super) fn sku_from(l: &LicenseDoc) -> SkuRef {
    SkuRef {
        sku_id: l.sku_id.as_str().into(),
        part_number: l.sku_part_number.as_str().into(),
        friendly: l.name.as_deref().map(Into::into),
    }
}

pub fn group_doc(g: &GroupChange) -> GroupChangeDoc {
    let GroupChange {
        group_id,
        display_name,
        observed_sku_ids,
        members,
        add,
        remove,
        seats,
        errors,
        reprocess,
        migrate,
    } = g;
    let mut licenses: Vec<GroupLicenseDoc> = remove
        .iter()
        .map(|s| GroupLicenseDoc {
            actions: vec![Action::Delete],
            license: license_doc(s),
            disabled_plans: Vec::new(),
        })
        .collect();
    licenses.extend(add.iter().map(
        |GroupLicenseRef {
             sku,
             disabled_plans,
         }| GroupLicenseDoc {
            actions: vec![Action::Create],
            license: license_doc(sku),
            disabled_plans: disabled_plans.clone(),
        },
    ));
    GroupChangeDoc {
        actions: vec![if g.has_changes() {
            Action::Update
        } else {
            Action::NoOp
        }],
        group_id: group_id.clone(),
        display_name: display_name.clone(),
        observed_sku_ids: observed_sku_ids.iter().map(|s| s.to_string()).collect(),
        members: *members,
        licenses,
        seat_impact: seats
            .iter()
            .map(|SeatImpact { sku, new_seats }| SeatImpactDoc {
                license: license_doc(sku),
                new_seats: *new_seats,
            })
            .collect(),
        members_in_error: errors.iter().map(error_doc).collect(),
        reprocess: reprocess
            .iter()
            .map(|MemberRef { user_id, upn }| MemberDoc {
                user_id: user_id.clone(),
                upn: upn.clone(),
            })
            .collect(),
        remove_direct_after_processing: migrate.iter().map(migration_doc).collect(),
    }
}

fn error_doc(e: &MemberError) -> MemberErrorDoc {
    let MemberError {
        user_id,
        upn,
        sku,
        error,
        fix,
    } = e;
    MemberErrorDoc {
        user_id: user_id.clone(),
        upn: upn.clone(),
        license: license_doc(sku),
        error: error.clone(),
        fix: fix.clone(),
    }
}

fn migration_doc(m: &Migration) -> MigrationDoc {
    let Migration {
        user_id,
        upn,
        remove,
    } = m;
    MigrationDoc {
        user_id: user_id.clone(),
        upn: upn.clone(),
        licenses: remove.iter().map(license_doc).collect(),
    }
}

pub fn group_from_doc(doc: &GroupChangeDoc) -> Result<GroupChange, String> {
    let what = format!("group {}", doc.group_id);
    super::one_action(&doc.actions, &what, &[Action::Update, Action::NoOp])?;
    let mut add = Vec::new();
    let mut remove = Vec::new();
    for l in &doc.licenses {
        let w = format!("{what}, license {}", l.license.sku_part_number);
        match super::one_action(&l.actions, &w, &[Action::Create, Action::Delete])? {
            Action::Create => add.push(GroupLicenseRef {
                sku: sku_from(&l.license),
                disabled_plans: l.disabled_plans.clone(),
            }),
            _ => remove.push(sku_from(&l.license)),
        }
    }
    Ok(GroupChange {
        group_id: doc.group_id.clone(),
        display_name: doc.display_name.clone(),
        observed_sku_ids: doc
            .observed_sku_ids
            .iter()
            .map(|s| s.as_str().into())
            .collect(),
        members: doc.members,
        add,
        remove,
        seats: doc
            .seat_impact
            .iter()
            .map(|s| SeatImpact {
                sku: sku_from(&s.license),
                new_seats: s.new_seats,
            })
            .collect(),
        errors: doc
            .members_in_error
            .iter()
            .map(|e| MemberError {
                user_id: e.user_id.clone(),
                upn: e.upn.clone(),
                sku: sku_from(&e.license),
                error: e.error.clone(),
                fix: e.fix.clone(),
            })
            .collect(),
        reprocess: doc
            .reprocess
            .iter()
            .map(|m| MemberRef {
                user_id: m.user_id.clone(),
                upn: m.upn.clone(),
            })
            .collect(),
        migrate: doc
            .remove_direct_after_processing
            .iter()
            .map(|m| Migration {
                user_id: m.user_id.clone(),
                upn: m.upn.clone(),
                remove: m.licenses.iter().map(sku_from).collect(),
            })
            .collect(),
    })
}
