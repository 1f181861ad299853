//! Graph's application permissions (app roles) as the emulator enforces them: the `roles` an
//! issued token carries, and which roles each endpoint accepts, from the "Permissions" table
//! of each endpoint's Graph v1.0 reference page (least privileged first, then the higher
//! privileged ones Graph also accepts). A call whose token holds none of them is answered
//! 403 `Authorization_RequestDenied`, as Graph does ("Microsoft Graph error responses and
//! resource types"; "Microsoft Graph permissions reference").

use axum::http::{Method, StatusCode};

use super::error::{GraphResponse, RequestIds};

/// Every application permission the emulator knows; issued tokens carry all of them unless
/// `--roles` narrows them.
pub const KNOWN_ROLES: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "CallRecord-PstnCalls.Read.All",
    "CallRecords.Read.All",
    "GroupMember.Read.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "TeamsTelephoneNumber.Read.All",
    "TeamsTelephoneNumber.ReadWrite.All",
    "TeamsUserConfiguration.Read.All",
];

/// `GET /organization` ("List organization").
const ORGANIZATION: &[&str] = &[
    "Organization.Read.All",
    "Directory.Read.All",
    "Organization.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// `GET /subscribedSkus` ("List subscribedSkus").
const SUBSCRIBED_SKUS: &[&str] = &[
    "LicenseAssignment.Read.All",
    "LicenseAssignment.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
    "Organization.Read.All",
    "Organization.ReadWrite.All",
];
/// `GET /users`, `GET /users/{id}`, `GET /users/$count` ("List users", "Get user").
const READ_USERS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "Directory.Read.All",
    "Directory.ReadWrite.All",
];
/// `PATCH /users/{id}` ("Update user").
const UPDATE_USER: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
/// `POST /users/{id}/assignLicense` ("user: assignLicense").
const ASSIGN_LICENSE: &[&str] = &[
    "LicenseAssignment.ReadWrite.All",
    "Directory.ReadWrite.All",
    "User.ReadWrite.All",
];
/// `GET /groups`, `/groups/{id}`, `/groups/{id}/members`, `/transitiveMembers` ("List
/// groups", "Get group", "List group transitive members").
const READ_GROUPS: &[&str] = &[
    "GroupMember.Read.All",
    "Group.Read.All",
    "Directory.Read.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// `POST /groups/{id}/assignLicense` ("group: assignLicense").
const ASSIGN_GROUP_LICENSE: &[&str] = &[
    "LicenseAssignment.ReadWrite.All",
    "Group.ReadWrite.All",
    "Directory.ReadWrite.All",
];
/// `POST /users/{id}/reprocessLicenseAssignment` ("user: reprocessLicenseAssignment").
const REPROCESS: &[&str] = &["User.ReadWrite.All", "Directory.ReadWrite.All"];
/// `GET /communications/callRecords/getPstnCalls(...)` ("callRecord: getPstnCalls": from
/// least to most privileged, `CallRecord-PstnCalls.Read.All` ("Read PSTN and direct routing
/// call log data"), then `CallRecords.Read.All`, every call and meeting record).
const PSTN_CALLS: &[&str] = &["CallRecord-PstnCalls.Read.All", "CallRecords.Read.All"];

/// The roles that allow `method` on the path `segments` (relative to `/v1.0`); `None` for a
/// request no route serves (it is refused for that reason instead).
pub fn accepted(method: &Method, segments: &[&str]) -> Option<&'static [&'static str]> {
    Some(match (method.clone(), segments) {
        (Method::GET, ["organization"]) => ORGANIZATION,
        (Method::GET, ["subscribedSkus"]) => SUBSCRIBED_SKUS,
        (Method::GET, ["users", ..]) => READ_USERS,
        (Method::PATCH, ["users", _]) => UPDATE_USER,
        (Method::POST, ["users", _, action]) if action.eq_ignore_ascii_case("assignLicense") => {
            ASSIGN_LICENSE
        }
        (Method::GET, ["communications", "callRecords", _]) => PSTN_CALLS,
        (Method::GET, ["groups", ..]) => READ_GROUPS,
        (Method::POST, ["groups", _, action]) if action.eq_ignore_ascii_case("assignLicense") => {
            ASSIGN_GROUP_LICENSE
        }
        (Method::POST, ["users", _, action])
            if action.eq_ignore_ascii_case("reprocessLicenseAssignment") =>
        {
            REPROCESS
        }
        (_, ["admin", "teams", ..]) => return super::teams::accepted(method, segments),
        _ => return None,
    })
}

/// The roles Graph accepts for `method` on `path` (relative to `/v1.0`, e.g.
/// `/users/u1/assignLicense`), for tests comparing this table with the documented one.
pub fn accepted_for(method: &str, path: &str) -> Option<&'static [&'static str]> {
    let method = Method::from_bytes(method.as_bytes()).ok()?;
    let segments: Vec<&str> = path
        .split('?')
        .next()
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    accepted(&method, &segments)
}

/// Graph's 403 when the token's roles allow none of `accepted`.
pub fn check(granted: &[String], accepted: &[&str], ids: &RequestIds) -> Result<(), GraphResponse> {
    if accepted
        .iter()
        .any(|a| granted.iter().any(|g| g.eq_ignore_ascii_case(a)))
    {
        return Ok(());
    }
    Err(GraphResponse::error(
        StatusCode::FORBIDDEN,
        "Authorization_RequestDenied",
        "Insufficient privileges to complete the operation.",
        ids,
    ))
}

/// Parses `--roles`: comma-separated permission names, each one the emulator knows (in
/// Graph's spelling); an empty list grants nothing.
pub fn parse_roles(list: &str) -> Result<Vec<String>, String> {
    let mut roles = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(known) = KNOWN_ROLES.iter().find(|k| k.eq_ignore_ascii_case(name)) else {
            return Err(format!(
                "unknown application permission `{name}`; the emulator knows {}",
                KNOWN_ROLES.join(", ")
            ));
        };
        if !roles.iter().any(|r: &String| r == known) {
            roles.push(known.to_string());
        }
    }
    Ok(roles)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_endpoint_accepts_its_least_privileged_role_and_no_unrelated_one() {
        let ids = RequestIds::new(None);
        let granted = |r: &[&str]| r.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        let assign = accepted(&Method::POST, &["users", "u", "assignLicense"]).unwrap();
        assert!(check(&granted(&["LicenseAssignment.ReadWrite.All"]), assign, &ids).is_ok());
        assert!(
            check(
                &granted(&["User.Read.All", "CallRecords.Read.All"]),
                assign,
                &ids
            )
            .is_err()
        );
        let pstn = accepted(&Method::GET, &["communications", "callRecords", "x"]).unwrap();
        let refused = check(&granted(&["Directory.ReadWrite.All"]), pstn, &ids).unwrap_err();
        assert_eq!(refused.status, StatusCode::FORBIDDEN);
        assert_eq!(
            refused.body.unwrap()["error"]["code"],
            "Authorization_RequestDenied"
        );
        assert!(accepted(&Method::DELETE, &["users", "u"]).is_none());
    }

    #[test]
    fn roles_lists_are_checked_against_known_names() {
        assert_eq!(
            parse_roles("user.read.all, Organization.Read.All,,").unwrap(),
            ["User.Read.All", "Organization.Read.All"]
        );
        assert!(parse_roles("").unwrap().is_empty());
        assert!(parse_roles("User.Read.Al").is_err());
    }
}
