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
///
/// To support a new Graph call: add a `Need` here naming its calls, its reference page and
/// the permissions of that page's "Permissions" table (least privileged first, then the
/// higher privileged ones), add it to [`ALL`] and to what needs it ([`Scope::needs`] or
/// [`needs_of`]), add its row to docs/graph.md ("Permissions"; a test compares them) and
/// the same table to the emulator (`crates/emulator/src/permissions.rs`; a test compares that too).
#[derive(Debug)]
pub struct Need {
    /// The least privileged permission: the one commcred asks for.
    pub permission: &'static str,
    /// Higher privileged permissions Graph also accepts for every call of this need.
    pub also: &'static [&'static str],
    /// What it is for, in the error that names it.
    pub purpose: &'static str,
    /// The calls it allows: method and path relative to `/v1.0` (`{id}` for an id).
    pub calls: &'static [(&'static str, &'static str)],
    /// The Graph v1.0 reference page(s) whose "Permissions" table this comes from.
    pub source: &'static str,
}

impl Need {
    /// Whether `granted` holds this need's permission or a higher one Graph accepts.
    pub fn met_by(&self, granted: &[String]) -> bool {
        let has = |p: &str| granted.iter().any(|g| g.eq_ignore_ascii_case(p));
        has(self.permission) || self.also.iter().any(|a| has(a))
    }
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
    calls: &[
        ("GET", "/users"),
        ("GET", "/users/$count"),
        ("GET", "/users/{id}"),
    ],
    source: "List users; Get user",
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
    calls: &[("GET", "/organization"), ("GET", "/subscribedSkus")],
    source: "List organization; List subscribedSkus",
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
    calls: &[
        ("GET", "/groups"),
        ("GET", "/groups/{id}/transitiveMembers"),
    ],
    source: "List groups; List group transitive members",
};
/// `POST /users/{id}/assignLicense`: "user: assignLicense".
pub const WRITE_LICENSES: Need = Need {
    permission: "LicenseAssignment.ReadWrite.All",
    also: &["User.ReadWrite.All", "Directory.ReadWrite.All"],
    purpose: "assign and remove licenses",
    calls: &[("POST", "/users/{id}/assignLicense")],
    source: "user: assignLicense",
};
/// `POST /groups/{id}/assignLicense`: "group: assignLicense".
pub const WRITE_GROUP_LICENSES: Need = Need {
    permission: "LicenseAssignment.ReadWrite.All",
    also: &["Group.ReadWrite.All", "Directory.ReadWrite.All"],
    purpose: "assign and remove groups' licenses",
    calls: &[("POST", "/groups/{id}/assignLicense")],
    source: "group: assignLicense",
};
/// `POST /users/{id}/reprocessLicenseAssignment`: "user: reprocessLicenseAssignment".
pub const REPROCESS_LICENSES: Need = Need {
    permission: "User.ReadWrite.All",
    also: &["Directory.ReadWrite.All"],
    purpose: "reprocess group members' licenses",
    calls: &[("POST", "/users/{id}/reprocessLicenseAssignment")],
    source: "user: reprocessLicenseAssignment",
};
/// `PATCH /users/{id}` with `usageLocation`: "Update user".
pub const WRITE_USAGE_LOCATION: Need = Need {
    permission: "User.ReadWrite.All",
    also: &["Directory.ReadWrite.All"],
    purpose: "set users' usageLocation",
    calls: &[("PATCH", "/users/{id}")],
    source: "Update user",
};
/// `GET /communications/callRecords/getPstnCalls(...)`: "callRecord: getPstnCalls" lists
/// `CallRecord-PstnCalls.Read.All` as the least privileged application permission ("Read
/// PSTN and direct routing call log data") and `CallRecords.Read.All` as the higher one,
/// which also reads every call and meeting record.
pub const READ_PSTN_CALLS: Need = Need {
    permission: "CallRecord-PstnCalls.Read.All",
    also: &["CallRecords.Read.All"],
    purpose: "read the PSTN call log (Communications Credits usage)",
    calls: &[(
        "GET",
        "/communications/callRecords/getPstnCalls(fromDateTime={from},toDateTime={to})",
    )],
    source: "callRecord: getPstnCalls",
};

/// `GET /admin/teams/telephoneNumberManagement/numberAssignments` ("List numberAssignments")
/// and the orders' `GET .../operations/{id}` ("Get telephoneNumberLongRunningOperation"):
/// both pages list `TeamsTelephoneNumber.Read.All` as least privileged and
/// `TeamsTelephoneNumber.ReadWrite.All` as the higher one.
pub const READ_NUMBERS: Need = Need {
    permission: "TeamsTelephoneNumber.Read.All",
    also: &["TeamsTelephoneNumber.ReadWrite.All"],
    purpose: "read the phone number inventory",
    calls: &[
        (
            "GET",
            "/admin/teams/telephoneNumberManagement/numberAssignments",
        ),
        (
            "GET",
            "/admin/teams/telephoneNumberManagement/operations/{id}",
        ),
    ],
    source: "List numberAssignments; Get telephoneNumberLongRunningOperation",
};
/// `GET /admin/teams/userConfigurations` ("List userConfigurations": no higher privileged
/// permission is available).
pub const READ_TEAMS_USERS: Need = Need {
    permission: "TeamsUserConfiguration.Read.All",
    also: &[],
    purpose: "read users' Teams voice configuration",
    calls: &[("GET", "/admin/teams/userConfigurations")],
    source: "List userConfigurations",
};
/// `POST .../numberAssignments/assignNumber` and `.../unassignNumber` ("numberAssignment:
/// assignNumber", "numberAssignment: unassignNumber": no higher privileged permission).
pub const WRITE_NUMBERS: Need = Need {
    permission: "TeamsTelephoneNumber.ReadWrite.All",
    also: &[],
    purpose: "assign and unassign phone numbers",
    calls: &[
        (
            "POST",
            "/admin/teams/telephoneNumberManagement/numberAssignments/assignNumber",
        ),
        (
            "POST",
            "/admin/teams/telephoneNumberManagement/numberAssignments/unassignNumber",
        ),
    ],
    source: "numberAssignment: assignNumber; numberAssignment: unassignNumber",
};

/// What reading numbers needs (the inventory and the Teams user configurations).
pub const NUMBER_READS: [&Need; 2] = [&READ_NUMBERS, &READ_TEAMS_USERS];

/// What every read of the tenant needs.
pub const READS: [&Need; 3] = [&READ_USERS, &READ_ORGANIZATION, &READ_GROUPS];

/// Every permission commcred may ask for, as docs/graph.md lists them.
pub const ALL: [&Need; 11] = [
    &READ_USERS,
    &READ_ORGANIZATION,
    &READ_GROUPS,
    &READ_PSTN_CALLS,
    &READ_NUMBERS,
    &READ_TEAMS_USERS,
    &WRITE_LICENSES,
    &WRITE_GROUP_LICENSES,
    &REPROCESS_LICENSES,
    &WRITE_USAGE_LOCATION,
    &WRITE_NUMBERS,
];

/// The hint that 403s and missing credentials show: every permission and what it is for.
pub fn hint() -> String {
    let mut by_permission: Vec<(&str, Vec<&str>)> = Vec::new();
    for need in ALL {
        match by_permission
            .iter_mut()
            .find(|(p, _)| *p == need.permission)
        {
            Some((_, purposes)) => purposes.push(need.purpose),
            None => by_permission.push((need.permission, vec![need.purpose])),
        }
    }
    let list: Vec<String> = by_permission
        .iter()
        .map(|(p, purposes)| format!("{p} (to {})", purposes.join(", to ")))
        .collect();
    format!(
        "commcred uses these Microsoft Graph application permissions, each only when the command needs it: {} (with admin consent; docs/graph.md says which command needs which)",
        list.join(", ")
    )
}

/// What a command needs before it reads, from what it declared ([`crate::backend::Intent`]):
/// the reads, the PSTN call log when it reads credits usage, and the phone numbers when
/// the configuration uses them (only then: a configuration without numbers never asks for
/// Teams permissions).
pub fn read_needs(intent: &crate::backend::Intent) -> Vec<&'static Need> {
    let mut needs = READS.to_vec();
    if intent.pstn_calls {
        needs.push(&READ_PSTN_CALLS);
    }
    if intent.numbers == crate::backend::NumbersRead::Required {
        needs.extend(NUMBER_READS);
    }
    needs
}

/// The write permissions the changes a configuration can make may need (told to the
/// admin with missing read permissions, so that one round of consent is enough).
pub fn change_needs(changes: &crate::backend::Changes) -> Vec<&'static Need> {
    let mut needs = Vec::new();
    if changes.user_licenses {
        needs.push(&WRITE_LICENSES);
    }
    if changes.usage_locations {
        needs.push(&WRITE_USAGE_LOCATION);
    }
    if changes.group_licenses {
        needs.push(&WRITE_GROUP_LICENSES);
        needs.push(&REPROCESS_LICENSES);
    }
    if changes.numbers {
        needs.push(&WRITE_NUMBERS);
    }
    needs
}

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
    needs
        .iter()
        .filter(|n| !n.met_by(granted))
        .copied()
        .collect()
}

/// `X (to a, to b), Y (to c)`: one entry per permission, with every purpose it is missing
/// for, in first-need order.
fn list_missing(missing: &[&Need]) -> Vec<String> {
    let mut by_permission: Vec<(&Need, Vec<&str>)> = Vec::new();
    for need in missing {
        match by_permission
            .iter_mut()
            .find(|(n, _)| n.permission == need.permission)
        {
            Some((_, purposes)) => purposes.push(need.purpose),
            None => by_permission.push((need, vec![need.purpose])),
        }
    }
    by_permission
        .iter()
        .map(|(need, purposes)| {
            let higher = match need.also {
                [] => String::new(),
                also => format!("; or a higher one: {}", also.join(", ")),
            };
            format!(
                "{} (to {}{higher})",
                need.permission,
                purposes.join(", to ")
            )
        })
        .collect()
}

/// `the application's access token lacks ... : LicenseAssignment.ReadWrite.All (to assign
/// and remove licenses; or a higher one: ...)`.
pub fn describe_missing(missing: &[&Need]) -> String {
    describe_all_missing(missing, &[])
}

/// [`describe_missing`], adding what the changes the configuration can make will need too
/// (`later`), so that the admin grants everything in one round of consent.
pub fn describe_all_missing(missing: &[&Need], later: &[&Need]) -> String {
    let names = list_missing(missing);
    let later: Vec<&Need> = later
        .iter()
        .filter(|l| !missing.iter().any(|m| m.permission == l.permission))
        .copied()
        .collect();
    let mut text = format!(
        "the application's access token lacks the Microsoft Graph application permission{} {}",
        if names.len() == 1 { "" } else { "s" },
        names.join(", ")
    );
    if !later.is_empty() {
        text.push_str(&format!(
            "; applying the changes this configuration can make also needs {}",
            list_missing(&later).join(", ")
        ));
    }
    text
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
    if any(Operation::is_number) {
        needs.extend(NUMBER_READS);
        needs.push(&WRITE_NUMBERS);
    }
    needs
}

impl super::GraphBackend {
    /// The roles of the access token; `None` when it is not a JWT commcred can read (then
    /// nothing is checked and Graph answers for itself).
    fn roles(&self) -> Result<Option<Vec<String>>, crate::backend::BackendError> {
        let client = &*self.client;
        match self.block_on(async move { client.granted_roles().await }) {
            Ok(Some(roles)) => Ok(Some(roles)),
            Ok(None) => {
                tracing::warn!("the access token is not a JWT; Graph permissions not checked");
                Ok(None)
            }
            Err(message) => Err(crate::backend::BackendError::Auth(format!(
                "cannot sign in to Microsoft Graph: {message}"
            ))),
        }
    }

    /// Whether the access token grants every need of `needs` (`true` when the token cannot
    /// be read: then Graph answers for itself).
    pub(super) fn grants(&self, needs: &[&Need]) -> Result<bool, crate::backend::BackendError> {
        Ok(self
            .roles()?
            .is_none_or(|roles| missing(&roles, needs).is_empty()))
    }

    /// Fails naming every permission of `needs` the access token does not grant and, when
    /// something is missing, every permission the declared changes will need too.
    pub(super) fn require(&self, needs: &[&Need]) -> Result<(), crate::backend::BackendError> {
        let Some(roles) = self.roles()? else {
            return Ok(());
        };
        let missing = missing(&roles, needs);
        if missing.is_empty() {
            return Ok(());
        }
        let later = missing_later(&roles, &change_needs(&self.intent.changes), needs);
        Err(crate::backend::BackendError::MissingPermissions(
            describe_all_missing(&missing, &later),
        ))
    }
}

/// The change needs not granted and not already among `now`.
fn missing_later<'a>(granted: &[String], later: &[&'a Need], now: &[&Need]) -> Vec<&'a Need> {
    missing(granted, later)
        .into_iter()
        .filter(|l| !now.iter().any(|n| std::ptr::eq(*n, *l)))
        .collect()
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
            [
                "LicenseAssignment.ReadWrite.All",
                "CallRecord-PstnCalls.Read.All"
            ]
        );
        let text = describe_missing(&m);
        assert!(text.contains("CallRecord-PstnCalls.Read.All (to read the PSTN call log"));
        assert!(
            text.contains("or a higher one: CallRecords.Read.All"),
            "{text}"
        );
        // The higher permission alone does for the call log; the least privileged one too.
        for p in ["CallRecords.Read.All", "CallRecord-PstnCalls.Read.All"] {
            assert!(
                missing(&[p.to_string()], &[&READ_PSTN_CALLS]).is_empty(),
                "{p}"
            );
        }
    }

    #[test]
    fn with_a_read_missing_the_declared_changes_are_named_in_the_same_message() {
        let granted = vec!["User.Read.All".to_string()];
        let intent = crate::backend::Intent {
            pstn_calls: true,
            changes: crate::backend::Changes {
                user_licenses: true,
                usage_locations: true,
                group_licenses: false,
                numbers: false,
            },
            numbers: crate::backend::NumbersRead::Skip,
        };
        let now = read_needs(&intent);
        let m = missing(&granted, &now);
        let later = missing_later(&granted, &change_needs(&intent.changes), &now);
        let text = describe_all_missing(&m, &later);
        for name in [
            "Organization.Read.All",
            "GroupMember.Read.All",
            "CallRecord-PstnCalls.Read.All",
            "also needs LicenseAssignment.ReadWrite.All",
            "User.ReadWrite.All (to set users' usageLocation",
        ] {
            assert!(text.contains(name), "{name}: {text}");
        }
        // Groups are not declared: nothing about them.
        assert!(!text.contains("groups' licenses"), "{text}");
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
