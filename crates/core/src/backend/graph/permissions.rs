//! The Microsoft Graph application permissions commcred needs, least privileged per call
//! (each endpoint's "Permissions" table in Graph's v1.0 reference), and the check that runs
//! before a command sends anything that needs them: the access token's `roles` claim (the
//! application permissions granted, with admin consent) is read and every missing
//! permission named. docs/graph.md ("Permissions") lists the same names; a test keeps the
//! two, the error hints and the CI examples in step.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::Value;

/// One thing commcred does on Graph and the application permissions Graph accepts for it.
#[derive(Debug)]
pub struct Need {
    /// The least privileged permission: the one commcred asks for.
    pub permission: &'static str,
    /// Higher privileged permissions Graph also accepts for the same calls.
    pub also: &'static [&'static str],
    /// What it is for, in the error that names it.
    pub purpose: &'static str,
}

/// `GET /users` (and `/users/$count`, `/users/{id}`): "List users".
pub const READ_USERS: Need = Need {
    permission: "User.Read.All",
    also: &[
        "User.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ],
    purpose: "read the users and their licenses",
};
/// `GET /organization` and `GET /subscribedSkus`: "List organization", "List subscribedSkus"
/// (Organization.Read.All is accepted by both, so one permission covers the two).
pub const READ_ORGANIZATION: Need = Need {
    permission: "Organization.Read.All",
    also: &[
        "Organization.ReadWrite.All",
        "Directory.Read.All",
        "Directory.ReadWrite.All",
    ],
    purpose: "read the tenant and its subscriptions",
};
/// `GET /groups` and their `transitiveMembers`: "List groups", "List group transitive
/// members" (every read lists the groups that assign licenses).
pub const READ_GROUPS: Need = Need {
    permission: "GroupMember.Read.All",
    also: &[
        "Group.Read.All",
        "Directory.Read.All",
        "Group.ReadWrite.All",
        "Directory.ReadWrite.All",
    ],
    purpose: "read the groups that assign licenses and their members",
};
/// `POST /users/{id}/assignLicense`: "user: assignLicense".
pub const WRITE_LICENSES: Need = Need {
    permission: "LicenseAssignment.ReadWrite.All",
    also: &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    purpose: "assign and remove licenses",
};
/// `POST /groups/{id}/assignLicense`: "group: assignLicense".
pub const WRITE_GROUP_LICENSES: Need = Need {
    permission: "LicenseAssignment.ReadWrite.All",
    also: &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
    purpose: "assign and remove groups' licenses",
};
/// `POST /users/{id}/reprocessLicenseAssignment`: "user: reprocessLicenseAssignment".
pub const REPROCESS_LICENSES: Need = Need {
    permission: "User.ReadWrite.All",
    also: &["Directory.ReadWrite.All"],
    purpose: "reprocess group members' licenses",
};
/// `PATCH /users/{id}` with `usageLocation`: "Update user".
pub const WRITE_USAGE_LOCATION: Need = Need {
    permission: "User.ReadWrite.All",
    also: &["Directory.ReadWrite.All"],
    purpose: "set users' usageLocation",
};
/// `GET /communications/callRecords/getPstnCalls(...)`: "callRecords: getPstnCalls".
pub const READ_PSTN_CALLS: Need = Need {
    permission: "CallRecords.Read.All",
    also: &[],
    purpose: "read the PSTN call log (Communications Credits usage)",
};

/// What every read of the tenant needs.
pub const READS: [&Need; 3] = [&READ_USERS, &READ_ORGANIZATION, &READ_GROUPS];

/// Every permission commcred may ask for, as docs/graph.md lists them.
pub const ALL: [&Need; 8] = [
    &READ_USERS,
    &READ_ORGANIZATION,
    &READ_GROUPS,
    &WRITE_LICENSES,
    &WRITE_GROUP_LICENSES,
    &REPROCESS_LICENSES,
    &WRITE_USAGE_LOCATION,
    &READ_PSTN_CALLS,
];

/// The hint that 403s and missing credentials show: every permission, by command.
pub const HINT: &str = "plan, drift and export need User.Read.All, Organization.Read.All and \
     GroupMember.Read.All; \
     reading Communications Credits usage adds CallRecords.Read.All; apply adds \
     LicenseAssignment.ReadWrite.All, and User.ReadWrite.All when the plan sets a \
     usageLocation or reprocesses group members (application permissions, with admin consent; see docs/graph.md)";

/// The application permissions an access token grants (its `roles` claim). `None` when the
/// token is not a JWT commcred can read: then nothing is checked and Graph has the last word.
pub fn granted_roles(access_token: &str) -> Option<Vec<String>> {
    let payload = access_token.split('.').nth(1)?;
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: Value = serde_json::from_slice(&bytes).ok()?;
    if !claims.is_object() {
        return None;
    }
    // An app-only token without any application permission has no `roles` at all.
    Some(
        claims
            .get("roles")
            .and_then(Value::as_array)
            .map(|roles| {
                roles
                    .iter()
                    .filter_map(|r| r.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default(),
    )
}

/// The needs none of whose accepted permissions is granted.
pub fn missing<'a>(granted: &[String], needs: &[&'a Need]) -> Vec<&'a Need> {
    let has = |p: &str| granted.iter().any(|g| g.eq_ignore_ascii_case(p));
    needs
        .iter()
        .filter(|n| !has(n.permission) && !n.also.iter().any(|a| has(a)))
        .copied()
        .collect()
}

/// `the application lacks ... : LicenseAssignment.ReadWrite.All (to assign and remove licenses)`.
pub fn describe_missing(missing: &[&Need]) -> String {
    // One entry per permission, with every purpose it is missing for, in first-need order.
    let mut by_permission: Vec<(&str, Vec<&str>)> = Vec::new();
    for need in missing {
        match by_permission
            .iter_mut()
            .find(|(p, _)| *p == need.permission)
        {
            Some((_, purposes)) => purposes.push(need.purpose),
            None => by_permission.push((need.permission, vec![need.purpose])),
        }
    }
    let names: Vec<String> = by_permission
        .iter()
        .map(|(permission, purposes)| format!("{permission} (to {})", purposes.join(", to ")))
        .collect();
    format!(
        "the application's access token lacks the Microsoft Graph application permission{} {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    )
}

/// What executing `ops` needs: the reads around it, and each kind of write among them.
pub fn needs_of(ops: &[crate::plan::Operation]) -> Vec<&'static Need> {
    use crate::plan::Operation;
    let mut needs = READS.to_vec();
    let any = |wanted: fn(&Operation) -> bool| ops.iter().any(wanted);
    if any(|o| {
        matches!(
            o,
            Operation::AssignLicenses { .. } | Operation::RemoveRedundantDirect { .. }
        )
    }) {
        needs.push(&WRITE_LICENSES);
    }
    if any(|o| matches!(o, Operation::AssignGroupLicenses { .. })) {
        needs.push(&WRITE_GROUP_LICENSES);
    }
    if any(|o| matches!(o, Operation::ReprocessLicenses { .. })) {
        needs.push(&REPROCESS_LICENSES);
    }
    if any(|o| matches!(o, Operation::SetUsageLocation { .. })) {
        needs.push(&WRITE_USAGE_LOCATION);
    }
    needs
}

impl super::GraphBackend {
    /// Fails naming every permission of `needs` the access token does not grant. A token
    /// commcred cannot read is let through: Graph then answers for itself.
    pub(super) fn require(&self, needs: &[&Need]) -> Result<(), crate::backend::BackendError> {
        let client = &*self.client;
        let roles = self.block_on(async move { client.granted_roles().await });
        let roles = match roles {
            Ok(Some(roles)) => roles,
            Ok(None) => {
                tracing::warn!("the access token is not a JWT; Graph permissions not checked");
                return Ok(());
            }
            Err(message) => {
                return Err(crate::backend::BackendError::Auth(format!(
                    "cannot sign in to Microsoft Graph: {message}"
                )));
            }
        };
        let missing = missing(&roles, needs);
        if missing.is_empty() {
            Ok(())
        } else {
            Err(crate::backend::BackendError::MissingPermissions(
                describe_missing(&missing),
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(payload: &str) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(payload)
        )
    }

    #[test]
    fn roles_come_from_the_token_payload() {
        let t = jwt(r#"{"roles":["User.Read.All","Organization.Read.All"],"tid":"t"}"#);
        let roles = granted_roles(&t).unwrap();
        assert_eq!(roles, ["User.Read.All", "Organization.Read.All"]);
        assert_eq!(granted_roles(&jwt(r#"{"tid":"t"}"#)), Some(vec![]));
        assert_eq!(granted_roles("opaque-token"), None);
        assert_eq!(granted_roles("a.!!!.c"), None);
    }

    #[test]
    fn a_higher_privileged_permission_satisfies_a_need() {
        let granted = vec!["Directory.ReadWrite.All".to_string()];
        assert!(missing(&granted, &[&READ_USERS, &WRITE_LICENSES]).is_empty());
        let granted = vec!["User.Read.All".to_string()];
        let m = missing(&granted, &[&READ_USERS, &WRITE_LICENSES, &READ_PSTN_CALLS]);
        let names: Vec<&str> = m.iter().map(|n| n.permission).collect();
        assert_eq!(
            names,
            ["LicenseAssignment.ReadWrite.All", "CallRecords.Read.All"]
        );
        assert!(describe_missing(&m).contains("CallRecords.Read.All (to read the PSTN call log"));
    }

    #[test]
    fn group_writes_need_their_permissions_and_each_is_named_once() {
        use crate::plan::Operation;
        let ops = vec![
            Operation::AssignGroupLicenses {
                group_id: "g".into(),
                name: "Sales phones".into(),
                add: vec![],
                remove: vec![],
            },
            Operation::ReprocessLicenses {
                user_id: "u".into(),
                upn: "u@contoso.com".into(),
            },
        ];
        let needs = needs_of(&ops);
        let granted = vec![
            "User.Read.All".to_string(),
            "Organization.Read.All".to_string(),
            "GroupMember.Read.All".to_string(),
        ];
        let m = missing(&granted, &needs);
        let names: Vec<&str> = m.iter().map(|n| n.permission).collect();
        assert_eq!(
            names,
            ["LicenseAssignment.ReadWrite.All", "User.ReadWrite.All"]
        );
        // Group.ReadWrite.All is accepted for a group's licenses as Graph's page says.
        let mut wider = granted.clone();
        wider.push("Group.ReadWrite.All".to_string());
        wider.push("User.ReadWrite.All".to_string());
        assert!(missing(&wider, &needs).is_empty());
        // A permission missing for two reasons is named once, with both.
        let both = missing(&granted, &[&WRITE_LICENSES, &WRITE_GROUP_LICENSES]);
        let text = describe_missing(&both);
        assert_eq!(
            text.matches("LicenseAssignment.ReadWrite.All").count(),
            1,
            "{text}"
        );
        assert!(
            text.contains("to assign and remove licenses, to assign and remove groups' licenses"),
            "{text}"
        );
    }
}
