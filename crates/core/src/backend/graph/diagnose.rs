//! Turning Graph's refusals into diagnostics an admin can act on: which user, which change,
//! Graph's own words, and what to do about it. Also the instructions for the credits
//! changes that no API can make.

use crate::plan::Operation;

/// `alice@contoso.com: Graph refused to assign MCOPSTN1 (400 Request_BadRequest): <Graph's
/// message> — help: <what to do>`.
pub(crate) fn refusal(op: &Operation, status: u16, code: &str, message: &str) -> String {
    let (upn, what) = match op {
        Operation::SetUsageLocation { upn, to, .. } => {
            (upn.as_str(), format!("set usageLocation to {to}"))
        }
        Operation::AssignLicenses {
            upn, add, remove, ..
        } => {
            let mut parts = Vec::new();
            if !add.is_empty() {
                let names: Vec<String> = add.iter().map(|s| s.label()).collect();
                parts.push(format!("assign {}", names.join(", ")));
            }
            if !remove.is_empty() {
                let names: Vec<String> = remove.iter().map(|s| s.label()).collect();
                parts.push(format!("remove {}", names.join(", ")));
            }
            (upn.as_str(), parts.join(" and "))
        }
        other => return format!("{}: {status} {code}: {message}", other.describe()),
    };
    let message = if message.is_empty() {
        "(no message)"
    } else {
        message
    };
    let mut text = format!("{upn}: Microsoft Graph refused to {what} ({status} {code}): {message}");
    if status == 403 || code.starts_with("Authorization_") {
        text.push_str(" — help: the application lacks permission: ");
        text.push_str(&super::permissions::hint());
    } else if let Some(help) = help(status, code, message) {
        text.push_str(" — help: ");
        text.push_str(help);
    }
    text
}

/// The help for a refusal, chosen by Graph's own wording (the texts and their sources are
/// listed in docs/graph.md, "What Graph answers when it refuses a license change").
fn help(status: u16, code: &str, message: &str) -> Option<&'static str> {
    let m = message.to_ascii_lowercase();
    Some(if status == 404 || code == "Request_ResourceNotFound" {
        "the user no longer exists in the tenant; run `commcred plan` again"
    } else if m.contains("does not have any available licenses") {
        "buy more seats of that subscription or free some from other users, then run `commcred plan` again"
    } else if m.contains("invalid usage location") || m.contains("'usagelocation'") {
        "give the user a valid two-letter `usageLocation` (ISO 3166-1) in commcred.yaml, or set `defaultUsageLocation`"
    } else if m.contains("are mutually exclusive") {
        "a user can hold only one calling plan: list a single calling plan for this user"
    } else if m.contains("depends on the service plan(s)") {
        "a calling plan needs Teams Phone: add `phoneSystem` to this user"
    } else if m.contains("inherited from a group membership") {
        "the license comes from a group: remove the user from that group, or the license from the group, in Entra ID"
    } else if m.contains("cannot be assigned to a user") {
        "this subscription applies to the company, not to users: remove it from the user's licenses"
    } else if m.contains("does not correspond to a valid company license")
        || m.contains("does not have a corresponding license")
    {
        "the tenant's subscriptions or the user's licenses changed since the plan: run `commcred plan` again"
    } else {
        return None;
    })
}

/// What an admin must do by hand for a credits change on Microsoft Graph.
pub(crate) fn manual_credits(op: &Operation) -> String {
    const WHERE: &str =
        "in the Microsoft 365 admin center (Billing > Your products > Communications Credits)";
    let what = match op {
        Operation::AddFunds(m) => format!("add funds of {m} {WHERE}"),
        Operation::SetAutoRecharge(t) if t.enabled => {
            let amount = |a: &Option<crate::base::money::Amount>| {
                a.map_or_else(|| "(unset)".to_string(), |a| a.0.to_string())
            };
            format!(
                "turn auto-recharge on {WHERE}, recharging {} when the balance falls below {}",
                amount(&t.recharge_amount),
                amount(&t.trigger_below)
            )
        }
        Operation::SetAutoRecharge(_) => format!("turn auto-recharge off {WHERE}"),
        Operation::SetPayment(p) => {
            let mut s = format!("set the payment method to {} {WHERE}", p.method.as_str());
            if let Some(n) = &p.agreement_number {
                s.push_str(&format!(", agreement number {n}"));
            }
            if let Some(po) = &p.purchase_order {
                s.push_str(&format!(", purchase order {po}"));
            }
            s
        }
        other => other.describe(),
    };
    format!(
        "Microsoft offers no API for Communications Credits, so commcred did not change them: {what}; then run `commcred plan` to confirm"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::SkuRef;

    #[test]
    fn refusals_name_the_user_the_change_and_the_remedy() {
        let op = Operation::AssignLicenses {
            user_id: "1".into(),
            upn: "alice@contoso.com".into(),
            add: vec![SkuRef {
                sku_id: "x".into(),
                part_number: "MCOPSTN1".into(),
                friendly: Some("domesticCallingPlan".into()),
            }],
            remove: vec![],
        };
        let text = refusal(
            &op,
            400,
            "Request_BadRequest",
            "Subscription with SKU x does not have any available licenses.",
        );
        assert!(text.starts_with("alice@contoso.com: Microsoft Graph refused to assign domesticCallingPlan (MCOPSTN1)"), "{text}");
        assert!(text.contains("buy more seats"), "{text}");
        let denied = refusal(
            &op,
            403,
            "Authorization_RequestDenied",
            "Insufficient privileges to complete the operation.",
        );
        assert!(
            denied.contains("LicenseAssignment.ReadWrite.All"),
            "{denied}"
        );
    }

    #[test]
    fn each_of_graphs_licensing_texts_gets_its_own_help() {
        let graph_texts = [
            (
                400,
                "License assignment cannot be done for user with invalid usage location.",
                "usageLocation",
            ),
            (
                400,
                "Subscription with SKU 0dab259f-bf13-4952-b7f8-7db8f131b28d does not have any available licenses.",
                "buy more seats",
            ),
            (
                400,
                "License 0dab259f-bf13-4952-b7f8-7db8f131b28d does not correspond to a valid company License.",
                "changed since the plan",
            ),
            (
                400,
                "User does not have a corresponding license.",
                "changed since the plan",
            ),
            (
                400,
                "User license is inherited from a group membership and it cannot be removed directly from the user.",
                "comes from a group",
            ),
            (
                400,
                "License assignment failed because service plans a,b are mutually exclusive.",
                "only one calling plan",
            ),
            (
                400,
                "License assignment failed because service plan a depends on the service plan(s) b",
                "needs Teams Phone",
            ),
            (
                400,
                "Invalid value specified for property 'usageLocation' of resource 'User'.",
                "usageLocation",
            ),
            (
                404,
                "Resource 'x' does not exist or one of its queried reference-property objects are not present.",
                "no longer exists",
            ),
        ];
        for (status, text, remedy) in graph_texts {
            let help = help(status, "Request_BadRequest", text).unwrap_or_default();
            assert!(help.contains(remedy), "{text} -> {help}");
        }
        assert_eq!(help(400, "Request_BadRequest", "Something new."), None);
    }
}
