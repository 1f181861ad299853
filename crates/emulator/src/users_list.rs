//! `GET /users` and `GET /users/$count` with exactly the query features commcred uses, under
//! Graph's rules ("Use query parameters"; "Advanced query capabilities on Microsoft Entra ID
//! objects"; "List users"):
//!
//! - `$select` (Graph's default properties without it; an unknown property is a 400);
//! - `$top` from 1 to 999 (default 100), pages linked by `@odata.nextLink` with an opaque
//!   `$skiptoken`;
//! - `$filter=startswith(userPrincipalName,'…')`, which Graph supports on
//!   `userPrincipalName` by default (no advanced query needed); directory string matching
//!   ignores case. Any other `$filter` is refused (the emulator implements no other);
//! - `$count=true`: with the `ConsistencyLevel: eventual` header the answer carries
//!   `@odata.count`, the number of users matching (all pages); without the header Graph
//!   silently ignores it;
//! - `/users/$count` answers the number as text with `ConsistencyLevel: eventual`, and 400
//!   `Request_BadRequest` "$count is not currently supported." without it.

use axum::http::StatusCode;
use serde_json::{Map, Value};

use commcred::tenant::User;

use super::error::{GraphResponse, RequestIds};
use super::resources::{DEFAULT_PAGE, MAX_PAGE, Query, parse_select, project, query_value};
use super::state::AppState;

/// `$skiptoken`s are opaque to clients; here they carry the position in the tenant's user
/// list where the next page starts, so that a page is found without going over the pages
/// before it again (reading every page stays linear in the number of users).
fn encode_skiptoken(offset: usize) -> String {
    format!("X{}", hex::encode(format!("users:{offset}")))
}

fn decode_skiptoken(token: &str) -> Option<usize> {
    let bytes = hex::decode(token.strip_prefix('X')?).ok()?;
    String::from_utf8(bytes)
        .ok()?
        .strip_prefix("users:")?
        .parse()
        .ok()
}

/// The one filter the emulator knows: `startswith(userPrincipalName,'prefix')`, with OData's
/// `''` for a quote inside the literal.
fn parse_filter(filter: &str) -> Option<String> {
    let f = filter.trim();
    let open = f.find('(')?;
    if !f[..open].trim().eq_ignore_ascii_case("startswith") || !f.ends_with(')') {
        return None;
    }
    let (property, literal) = f[open + 1..f.len() - 1].split_once(',')?;
    if !property.trim().eq_ignore_ascii_case("userPrincipalName") {
        return None;
    }
    let literal = literal.trim();
    let inner = literal.strip_prefix('\'')?.strip_suffix('\'')?;
    if inner.replace("''", "").contains('\'') {
        return None;
    }
    Some(inner.replace("''", "'").to_ascii_lowercase())
}

/// Case-insensitive `startswith` (ASCII case folding: user names are ASCII in Entra ID).
fn matches(user: &User, prefix: Option<&str>) -> bool {
    prefix.is_none_or(|p| {
        let name = user.user_principal_name.as_bytes();
        name.len() >= p.len() && name[..p.len()].eq_ignore_ascii_case(p.as_bytes())
    })
}

fn unsupported(message: impl Into<String>, ids: &RequestIds) -> GraphResponse {
    GraphResponse::bad_request("Request_UnsupportedQuery", message, ids)
}

/// `GET /users/$count`, optionally with `$filter=startswith(userPrincipalName,'…')` of any
/// length ("Advanced query capabilities on Microsoft Entra ID objects" counts filtered
/// collections: `GET ~/users/$count?$filter=…` with `ConsistencyLevel: eventual`).
pub fn count_users(
    state: &AppState,
    query: &Query,
    eventual: bool,
    ids: &RequestIds,
) -> GraphResponse {
    if !eventual {
        return GraphResponse::bad_request(
            "Request_BadRequest",
            "$count is not currently supported.",
            ids,
        );
    }
    let filter_text = query_value(query, "$filter");
    let prefix = match filter_text.map(parse_filter) {
        None => None,
        Some(Some(p)) => Some(p),
        Some(None) => {
            return unsupported(
                format!(
                    "The emulator supports only startswith(userPrincipalName,'…') as $filter on users, not '{}'.",
                    filter_text.unwrap_or_default()
                ),
                ids,
            );
        }
    };
    let n = state.store.read(|s, _| {
        s.users
            .iter()
            .filter(|u| matches(u, prefix.as_deref()))
            .count()
    });
    GraphResponse::json(StatusCode::OK, Value::from(n)).with_header("Content-Type", "text/plain")
}

/// `GET /users`.
// Long: each query option is checked in turn, as Graph does, before any user is read; the
// steps are short and in sequence, and share the parsed options.
pub fn list_users(
    state: &AppState,
    query: &Query,
    eventual: bool,
    ids: &RequestIds,
) -> GraphResponse {
    for (k, _) in query {
        let k = k.to_ascii_lowercase();
        let known = matches!(
            k.as_str(),
            "$select" | "$top" | "$skiptoken" | "$filter" | "$count"
        );
        if k.starts_with('$') && !known {
            return unsupported(
                format!("The emulator does not support the query option '{k}' on users."),
                ids,
            );
        }
    }
    let select_text = query_value(query, "$select");
    let select = match parse_select(select_text, ids) {
        Ok(s) => s,
        Err(e) => return e,
    };
    let top = match query_value(query, "$top") {
        None => DEFAULT_PAGE,
        Some(t) => match t.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return unsupported(
                    format!(
                        "Invalid page size specified: '{t}'. Must be between 1 and 999 inclusive."
                    ),
                    ids,
                );
            }
        },
    };
    let filter_text = query_value(query, "$filter");
    let prefix = match filter_text.map(parse_filter) {
        None => None,
        Some(Some(p)) => Some(p),
        Some(None) => {
            return unsupported(
                format!(
                    "The emulator supports only startswith(userPrincipalName,'…') as $filter on users, not '{}'.",
                    filter_text.unwrap_or_default()
                ),
                ids,
            );
        }
    };
    let count_text = query_value(query, "$count");
    let count = match count_text.map(str::to_ascii_lowercase).as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return GraphResponse::bad_request(
                "BadRequest",
                format!("Invalid value '{other}' for query option '$count'."),
                ids,
            );
        }
    };
    let offset = match query_value(query, "$skiptoken") {
        None => 0,
        Some(t) => match decode_skiptoken(t) {
            Some(o) => o,
            None => {
                return unsupported(
                    "The specified page token value has expired or is invalid.",
                    ids,
                );
            }
        },
    };
    let (page, next, total) = state.store.read(|s, _| {
        let wanted = |u: &User| matches(u, prefix.as_deref());
        let rest = s.users.get(offset..).unwrap_or_default();
        let mut positions = rest.iter().enumerate().filter(|(_, u)| wanted(u));
        let page: Vec<Value> = positions
            .by_ref()
            .take(top)
            .map(|(_, u)| project(u, &select))
            .collect();
        // The next page starts at the next match; none: this is the last page.
        let next = positions.next().map(|(i, _)| offset + i);
        // Counted only when asked for (`$count=true`): the first page, usually.
        let total = (count && eventual).then(|| s.users.iter().filter(|u| wanted(u)).count());
        (page, next, total)
    });
    let context = match select_text {
        Some(_) => format!(
            "{}/v1.0/$metadata#users({})",
            state.base_url,
            select.join(",")
        ),
        None => format!("{}/v1.0/$metadata#users", state.base_url),
    };
    let mut body = Map::new();
    body.insert("@odata.context".into(), Value::String(context));
    // Without the header Graph ignores `$count=true`.
    if let Some(total) = total {
        body.insert("@odata.count".into(), Value::from(total));
    }
    if let Some(next_offset) = next {
        let mut next = url::Url::parse(&format!("{}/v1.0/users", state.base_url))
            .expect("the emulator's own URL parses");
        {
            let mut q = next.query_pairs_mut();
            if let Some(s) = select_text {
                q.append_pair("$select", s);
            }
            if let Some(f) = filter_text {
                q.append_pair("$filter", f);
            }
            if let Some(c) = count_text {
                q.append_pair("$count", c);
            }
            q.append_pair("$top", &top.to_string());
            q.append_pair("$skiptoken", &encode_skiptoken(next_offset));
        }
        body.insert("@odata.nextLink".into(), Value::String(next.to_string()));
    }
    body.insert("value".into(), Value::Array(page));
    GraphResponse::json(StatusCode::OK, Value::Object(body))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn skiptokens_round_trip_and_reject_garbage() {
        assert_eq!(decode_skiptoken(&encode_skiptoken(999)), Some(999));
        assert_eq!(decode_skiptoken("nonsense"), None);
        assert_eq!(decode_skiptoken("Xzz"), None);
    }

    #[test]
    fn only_startswith_on_user_principal_name_is_a_filter() {
        assert_eq!(
            parse_filter("startswith(userPrincipalName,'A')").as_deref(),
            Some("a")
        );
        assert_eq!(
            parse_filter(" startsWith( userprincipalname , 'o''b' ) ").as_deref(),
            Some("o'b")
        );
        assert_eq!(parse_filter("startswith(displayName,'a')"), None);
        assert_eq!(parse_filter("startswith(userPrincipalName,'a'b')"), None);
        assert_eq!(parse_filter("accountEnabled eq true"), None);
    }
}
