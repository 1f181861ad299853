//! The plan as a Microsoft Graph PowerShell script, for change-managed tenants where a
//! person runs the change (`Update-MgUser`, `Set-MgUserLicense`).
//!
//! The script does what `apply PLAN` does, in the same order: it first checks that every
//! user it changes still looks as the plan saw it and stops before changing anything if
//! not; it stops at the first error (`$ErrorActionPreference = 'Stop'`). Communications
//! Credits have no API, so funding and auto-recharge are written as commented manual steps.
//!
//! Values are quoted as PowerShell single-quoted strings; comments never span lines. Both
//! matter: UPNs and notes come from the tenant, and this text is meant to be executed.

use std::fmt::Write;

use crate::plan::{CreditsChange, Operation, Plan, UserChange};

use super::human::summary_line;

/// Delegated scopes, as Microsoft documents for assigning licenses with PowerShell.
pub const SCOPES: [&str; 2] = ["User.ReadWrite.All", "Organization.Read.All"];

pub fn render(plan: &Plan) -> String {
    let mut out = String::new();
    header(&mut out, plan);
    if !plan.has_changes() {
        let _ = writeln!(
            out,
            "# No changes: tenant {} matches the configuration. Nothing to run.",
            comment(&plan.tenant_domain)
        );
        return out;
    }
    connect(&mut out, plan);
    preflight(&mut out, plan);
    changes(&mut out, plan);
    groups(&mut out, plan);
    numbers(&mut out, plan);
    if let Some(c) = plan.credits.as_ref().filter(|c| c.has_changes()) {
        manual_credits(&mut out, c);
    }
    out
}

fn header(out: &mut String, plan: &Plan) {
    let _ = writeln!(
        out,
        "# commcred plan for tenant {} ({})",
        comment(&plan.tenant_domain),
        comment(&plan.tenant_id)
    );
    let _ = writeln!(
        out,
        "# Planned at {} from config sha256 {}; written by commcred {}.",
        plan.planned_at.format("%Y-%m-%dT%H:%M:%SZ"),
        comment(&plan.config_digest),
        env!("CARGO_PKG_VERSION")
    );
    let _ = writeln!(out, "# {}", comment(&summary_line(&plan.summary())));
    let _ = writeln!(out, "#");
    let _ = writeln!(
        out,
        "# Review, then run with the Microsoft Graph PowerShell SDK:\n\
         #   Install-Module Microsoft.Graph.Users, Microsoft.Graph.Users.Actions\n\
         # It checks first that every user it changes is as the plan saw it, and changes\n\
         # nothing if one differs; it stops at the first error.\n"
    );
}

fn connect(out: &mut String, plan: &Plan) {
    let scopes: Vec<String> = SCOPES.iter().map(|s| quote(s)).collect();
    let _ = writeln!(
        out,
        "#Requires -Modules Microsoft.Graph.Authentication, Microsoft.Graph.Users, Microsoft.Graph.Users.Actions\n\
         $ErrorActionPreference = 'Stop'\n\
         Connect-MgGraph -TenantId {} -Scopes {} -NoWelcome\n",
        quote(&plan.tenant_id),
        scopes.join(", ")
    );
}

/// The staleness check of `apply PLAN`, per user: same usage location, same directly
/// assigned SKUs (group-inherited ones are not the plan's business).
fn preflight(out: &mut String, plan: &Plan) {
    let users: Vec<&UserChange> = plan.users.iter().filter(|u| u.has_changes()).collect();
    if users.is_empty() {
        return;
    }
    out.push_str(
        "function Assert-Unchanged {\n    \
         param($UserId, $Upn, $UsageLocation, [string[]]$DirectSkuIds)\n    \
         $user = Get-MgUser -UserId $UserId -Property 'id,usageLocation,licenseAssignmentStates'\n    \
         $direct = @($user.LicenseAssignmentStates | Where-Object { -not $_.AssignedByGroup } | ForEach-Object { [string]$_.SkuId })\n    \
         $want = [System.Collections.Generic.HashSet[string]]::new([string[]]$DirectSkuIds, [System.StringComparer]::OrdinalIgnoreCase)\n    \
         $have = [System.Collections.Generic.HashSet[string]]::new([string[]]$direct, [System.StringComparer]::OrdinalIgnoreCase)\n    \
         if (\"$($user.UsageLocation)\" -cne \"$UsageLocation\" -or -not $want.SetEquals($have)) {\n        \
         throw \"$Upn changed since the plan was made; nothing was changed. Run commcred plan again.\"\n    \
         }\n}\n\n",
    );
    let _ = writeln!(
        out,
        "# 1. Check that the users to change are as the plan saw them"
    );
    for u in users {
        let location = u
            .observed
            .usage_location
            .as_deref()
            .map_or_else(|| "$null".to_string(), quote);
        let _ = writeln!(
            out,
            "Assert-Unchanged -UserId {} -Upn {} -UsageLocation {location} -DirectSkuIds {}",
            quote(&u.user_id),
            quote(&u.upn),
            list(u.observed.direct_sku_ids.iter().map(|s| quote(s)))
        );
    }
    out.push('\n');
}

fn changes(out: &mut String, plan: &Plan) {
    let ops = plan.operations();
    let mut section = 0;
    let mut heading = |out: &mut String, title: &str| {
        section += 1;
        let _ = writeln!(out, "# {}. {title}", section + 1);
    };
    let locations: Vec<&Operation> = ops
        .iter()
        .filter(|o| matches!(o, Operation::SetUsageLocation { .. }))
        .collect();
    if !locations.is_empty() {
        heading(
            out,
            "Usage locations (Graph needs one before a license is assigned)",
        );
        for op in locations {
            if let Operation::SetUsageLocation { user_id, upn, to } = op {
                let from = plan
                    .users
                    .iter()
                    .find(|u| &u.user_id == user_id)
                    .and_then(|u| u.usage_location.as_ref())
                    .and_then(|l| l.from.as_deref())
                    .unwrap_or("(none)");
                let _ = writeln!(
                    out,
                    "# {}: {} -> {}",
                    comment(upn),
                    comment(from),
                    comment(to)
                );
                let _ = writeln!(
                    out,
                    "Update-MgUser -UserId {} -UsageLocation {}",
                    quote(user_id),
                    quote(to)
                );
            }
        }
        out.push('\n');
    }
    let licenses: Vec<&Operation> = ops
        .iter()
        .filter(|o| matches!(o, Operation::AssignLicenses { .. }))
        .collect();
    if !licenses.is_empty() {
        heading(
            out,
            "Licenses (users who only lose licenses first, to free seats)",
        );
        for op in licenses {
            if let Operation::AssignLicenses {
                user_id,
                upn,
                add,
                remove,
            } = op
            {
                let mut what: Vec<String> =
                    remove.iter().map(|s| format!("- {}", s.label())).collect();
                what.extend(add.iter().map(|s| format!("+ {}", s.label())));
                let _ = writeln!(out, "# {}: {}", comment(upn), comment(&what.join(", ")));
                let adds = list(
                    add.iter()
                        .map(|s| format!("@{{SkuId={}}}", quote(&s.sku_id))),
                );
                let removes = list(remove.iter().map(|s| quote(&s.sku_id)));
                let _ = writeln!(
                    out,
                    "Set-MgUserLicense -UserId {} -AddLicenses {adds} -RemoveLicenses {removes}",
                    quote(user_id)
                );
            }
        }
        out.push('\n');
    }
}

/// Phone numbers with Teams PowerShell (`Remove-CsPhoneNumberAssignment`, then
/// `Set-CsPhoneNumberAssignment`), after the licenses: every number leaving a user is
/// removed before any is assigned, so a number moving between users is free when its new
/// holder gets it. Teams provisions a newly licensed user with a delay: the section says
/// so, and the cmdlets stop the script on the first refusal.
fn numbers(out: &mut String, plan: &Plan) {
    let ops: Vec<Operation> = plan
        .operations()
        .into_iter()
        .filter(Operation::is_number)
        .collect();
    if ops.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "# Phone numbers (Teams PowerShell: Install-Module MicrosoftTeams; run once the\n\
         # licenses above have reached Teams, which can take a while for a newly licensed user)\n\
         Import-Module MicrosoftTeams\n\
         Connect-MicrosoftTeams -TenantId {}",
        quote(&plan.tenant_id)
    );
    for op in &ops {
        match op {
            Operation::UnassignNumber {
                user_id,
                upn,
                number,
            } => {
                let _ = writeln!(
                    out,
                    "# {}: remove {} ({})",
                    comment(upn),
                    comment(&number.number),
                    number.number_type
                );
                let _ = writeln!(
                    out,
                    "Remove-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType {}",
                    quote(user_id),
                    quote(&number.number),
                    number.number_type.powershell()
                );
            }
            Operation::AssignNumber {
                user_id,
                upn,
                number,
            } => {
                let _ = writeln!(
                    out,
                    "# {}: assign {} ({})",
                    comment(upn),
                    comment(&number.number),
                    number.number_type
                );
                let _ = writeln!(
                    out,
                    "Set-CsPhoneNumberAssignment -Identity {} -PhoneNumber {} -PhoneNumberType {}",
                    quote(user_id),
                    quote(&number.number),
                    number.number_type.powershell()
                );
            }
            _ => {}
        }
    }
    out.push('\n');
}

/// Group licenses (`Set-MgGroupLicense`), then, once Entra ID has processed the members,
/// reprocessing (`Invoke-MgLicenseUser`) and the direct copies the groups now provide, as
/// commented steps: the person checks each member's inherited assignment is active first.
fn groups(out: &mut String, plan: &Plan) {
    let ops: Vec<Operation> = plan
        .operations()
        .into_iter()
        .filter(Operation::is_group)
        .collect();
    if ops.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "# Group licenses (Entra ID processes the members in the background)"
    );
    for op in &ops {
        if let Operation::AssignGroupLicenses {
            group_id,
            name,
            add,
            remove,
        } = op
        {
            let _ = writeln!(out, "# group {}", comment(name));
            let adds = list(add.iter().map(|a| {
                format!(
                    "@{{SkuId={}; DisabledPlans={}}}",
                    quote(&a.sku.sku_id),
                    list(a.disabled_plans.iter().map(|p| quote(p)))
                )
            }));
            let removes = list(remove.iter().map(|s| quote(&s.sku_id)));
            let _ = writeln!(
                out,
                "Set-MgGroupLicense -GroupId {} -AddLicenses {adds} -RemoveLicenses {removes}",
                quote(group_id)
            );
        }
    }
    let later: Vec<&Operation> = ops
        .iter()
        .filter(|o| !matches!(o, Operation::AssignGroupLicenses { .. }))
        .collect();
    after_processing(out, &later);
}

/// The steps that wait for Entra ID: reprocessing, and direct copies left commented.
fn after_processing(out: &mut String, later: &[&Operation]) {
    if later.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "\n# Wait until every member is processed (Entra admin center > the group > Licenses),\n\
         # then run the steps below. Remove a direct copy only when the member's assignment\n\
         # from the group is Active: a member in error keeps its direct license."
    );
    for op in later {
        match op {
            Operation::ReprocessLicenses { user_id, upn } => {
                let _ = writeln!(out, "# {}: reprocess group licenses", comment(upn));
                let _ = writeln!(out, "Invoke-MgLicenseUser -UserId {}", quote(user_id));
            }
            Operation::RemoveRedundantDirect {
                user_id,
                upn,
                group_name,
                remove,
                ..
            } => {
                let _ = writeln!(
                    out,
                    "# {}: direct copies now given by group {}",
                    comment(upn),
                    comment(group_name)
                );
                let removes = list(remove.iter().map(|s| quote(&s.sku_id)));
                let _ = writeln!(
                    out,
                    "# Set-MgUserLicense -UserId {} -AddLicenses @() -RemoveLicenses {removes}",
                    quote(user_id)
                );
            }
            _ => {}
        }
    }
    out.push('\n');
}

fn manual_credits(out: &mut String, c: &CreditsChange) {
    let money = |a| comment(&c.money(a).to_string());
    let _ = writeln!(
        out,
        "# Communications Credits: MANUAL STEPS. Microsoft has no API for funding or\n\
         # auto-recharge; do these in the Microsoft 365 admin center, Billing > Your products >\n\
         # Communications Credits ({} account, {}):",
        c.billing_account_type.as_str(),
        comment(&c.currency)
    );
    if let Some(t) = &c.auto_recharge {
        let line = if t.enabled {
            format!(
                "turn auto-recharge on: when the balance is below {}, add {}",
                t.trigger_below.map_or("(unset)".into(), money),
                t.recharge_amount.map_or("(unset)".into(), money)
            )
        } else {
            "turn auto-recharge off".to_string()
        };
        let _ = writeln!(out, "#   - {line}");
    }
    if let Some(p) = &c.payment {
        let mut line = format!("payment method: {}", p.method.as_str());
        if let Some(n) = &p.agreement_number {
            let _ = write!(line, ", agreement number {}", comment(n));
        }
        if let Some(po) = &p.purchase_order {
            let _ = write!(line, ", purchase order {}", comment(po));
        }
        let _ = writeln!(out, "#   - {line}");
    }
    if let Some(amount) = c.add_funds {
        let _ = writeln!(
            out,
            "#   - add funds: {} (usable balance {} -> {})",
            money(amount),
            money(c.observed.usable_balance),
            money(c.balance_after)
        );
    }
}

/// A PowerShell single-quoted string. PowerShell also ends such strings at the typographic
/// single quotes U+2018..U+201B, so those are doubled too.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('\'');
    for c in value.chars() {
        if matches!(c, '\'' | '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}') {
            out.push(c);
        }
        out.push(c);
    }
    out.push('\'');
    out
}

/// Text for a `#` comment: on one line whatever it holds.
fn comment(value: &str) -> String {
    value
        .chars()
        .map(|c| {
            if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
                ' '
            } else {
                c
            }
        })
        .collect()
}

/// `@('a', 'b')`, or `@()`.
fn list(items: impl Iterator<Item = String>) -> String {
    format!("@({})", items.collect::<Vec<_>>().join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_cannot_be_broken_out_of() {
        assert_eq!(quote("o'brien@contoso.com"), "'o''brien@contoso.com'");
        assert_eq!(
            quote("x\u{2019}; Remove-MgUser"),
            "'x\u{2019}\u{2019}; Remove-MgUser'"
        );
        assert_eq!(comment("a\nRemove-MgUser\r\u{2028}b"), "a Remove-MgUser  b");
        assert_eq!(list(std::iter::empty()), "@()");
    }
}
