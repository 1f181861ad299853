//! Microsoft's examples define the wire, not our types (issue 20, item 5). The emulator
//! serialises users and SKUs from the same `tenant` types the client deserialises into, so a
//! misnamed field would vanish on both sides unnoticed. `tests/fixtures/graph/` keeps the
//! response examples of Graph's v1.0 reference pages (its README names each page and the
//! date read); here
//! - the graph client parses each one through the public API: a loopback server answering
//!   with Microsoft's examples is read by `GraphBackend`, the PSTN log by `fetch_pstn_calls`,
//!   `$batch` and error bodies by `backend::graph::wire`;
//! - the emulator's answer to the same request has the same keys and JSON value types as
//!   Microsoft's example (a recursive comparison; where the emulator may differ, the
//!   difference is listed with why).

use std::collections::BTreeSet;
use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde_json::{Value, json};

use commcred::backend::Backend;
use commcred::backend::graph::pstn::{GraphGet, fetch_pstn_calls};
use commcred::backend::graph::wire::{batch_answers, graph_error};
use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};

use crate::emulator::{Api, MCOMEETADV, rules_tenant, start, write_tenant};
use crate::json_shape::{Rules, assert_same_wire, differences, selected};

fn fixture(name: &str) -> Value {
    let path = crate::common::root()
        .join("tests/fixtures/graph")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{name}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"))
}

// ---------------------------------------------------------------------------------------
// (a) The client parses Microsoft's examples.

/// A loopback "Graph" answering every read of the client with Microsoft's examples.
struct ExampleGraph {
    url: String,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

#[derive(Clone, Copy)]
enum Mode {
    /// Every read answered with its example.
    Examples,
    /// `subscribedSkus` answered 400 with the error example.
    SkusRefused,
}

async fn answer(State(mode): State<Mode>, method: Method, uri: Uri) -> Response {
    let path = uri.path();
    if method == Method::POST && path.ends_with("/oauth2/v2.0/token") {
        // Not a JWT: the client then checks no permissions and lets Graph answer.
        return axum::Json(json!({"token_type": "Bearer", "expires_in": 3599,
                                 "access_token": "example-token"}))
        .into_response();
    }
    let ok = |name: &str| axum::Json(fixture(name)).into_response();
    match path.trim_start_matches("/v1.0") {
        "/organization" => ok("organization-list.json"),
        "/subscribedSkus" => match mode {
            Mode::Examples => ok("subscribedsku-list.json"),
            Mode::SkusRefused => (
                StatusCode::BAD_REQUEST,
                axum::Json(fixture("error-response.json")),
            )
                .into_response(),
        },
        // "List users", Example 3: the count as text/plain (two users in Example 1).
        "/users/$count" => ([("content-type", "text/plain")], "2").into_response(),
        "/users" => ok("user-list.json"),
        "/groups" => ok("group-list-select.json"),
        p if p.contains("/transitiveMembers") => ok("group-list-transitivemembers.json"),
        _ => (
            StatusCode::NOT_FOUND,
            axum::Json(fixture("error-response.json")),
        )
            .into_response(),
    }
}

impl ExampleGraph {
    fn start(mode: Mode) -> ExampleGraph {
        let (addr_tx, addr_rx) = std::sync::mpsc::channel();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move {
                let app = axum::Router::new().fallback(answer).with_state(mode);
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
                addr_tx.send(listener.local_addr().unwrap()).unwrap();
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(async {
                        let _ = stopped.await;
                    })
                    .await;
            });
        });
        let addr = addr_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        ExampleGraph {
            url: format!("http://{addr}"),
            stop: Some(stop),
        }
    }

    fn backend(&self) -> GraphBackend {
        let credentials = Credentials::with_secret(
            "contoso.onmicrosoft.com",
            "examples",
            Secret::new("examples"),
        );
        GraphBackend::new(GraphOptions::new(Some(&self.url), credentials)).unwrap()
    }
}

impl Drop for ExampleGraph {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

#[test]
fn the_client_reads_microsofts_examples_of_every_read() {
    let graph = ExampleGraph::start(Mode::Examples);
    let mut backend = graph.backend();
    // A group the YAML names has its transitive members read.
    backend.want_groups(vec!["Contoso Group 1".into()]);
    let live = backend.read().expect("Microsoft's examples parse");

    assert_eq!(live.tenant.id, "84841066-274d-4ec0-a5c1-276be684bdd3");
    assert_eq!(live.tenant.domain, "Contoso.onmicrosoft.com");

    let skus: Vec<_> = live
        .subscribed_skus
        .iter()
        .map(|s| {
            (
                s.sku_id.as_str(),
                s.sku_part_number.as_str(),
                s.capability_status.as_str(),
                s.prepaid_units.enabled,
                s.prepaid_units.suspended,
                s.consumed_units,
            )
        })
        .collect();
    assert_eq!(
        skus,
        [
            (
                "c7df2760-2c81-4ef7-b578-5b5392b571df",
                "ENTERPRISEPREMIUM",
                "Enabled",
                25,
                0,
                14
            ),
            (
                "d17b27af-3f49-4822-99f9-56a661538792",
                "CRMSTANDARD",
                "Suspended",
                0,
                25,
                14
            ),
        ]
    );
    assert_eq!(
        live.subscribed_skus[0].service_plans[0].service_plan_name,
        "ADALLOM_S_O365"
    );

    let users: Vec<_> = live
        .users
        .iter()
        .map(|u| (u.id.as_str(), u.user_principal_name.as_str()))
        .collect();
    assert_eq!(
        users,
        [
            ("6ea91a8d-e32e-41a1-b7bd-d2d185eed0e0", "Adams@contoso.com"),
            ("4562bcc8-c436-4f95-b7c0-4f8ce89dca5e", "admin@contoso.com"),
        ]
    );
    // Example 1 has no license properties: no license, not "unknown".
    assert!(live.users.iter().all(|u| u.assigned_licenses.is_empty()));

    let named: Vec<_> = live
        .groups
        .iter()
        .map(|g| (g.display_name.as_str(), g.members.clone()))
        .collect();
    assert_eq!(
        named,
        [(
            "Contoso Group 1",
            vec!["11111111-2222-3333-4444-555555555555".to_string()]
        )]
    );
}

#[test]
fn the_client_reads_microsofts_error_body_into_its_diagnostic() {
    let graph = ExampleGraph::start(Mode::SkusRefused);
    let err = graph
        .backend()
        .read()
        .expect_err("a 400 is not a tenant")
        .to_string();
    assert!(err.contains("subscribedSkus"), "{err}");
    assert!(err.contains("invalidRange"), "{err}");
    assert!(
        err.contains("Uploaded fragment overlaps with existing data."),
        "{err}"
    );
    assert_eq!(
        graph_error(&fixture("error-response.json")),
        (
            "invalidRange".to_string(),
            "Uploaded fragment overlaps with existing data.".to_string()
        )
    );
}

#[test]
fn the_client_reads_microsofts_batch_response() {
    let answers = batch_answers(&fixture("json-batch-response.json")).expect("it parses");
    let seen: Vec<_> = answers
        .iter()
        .map(|(id, a)| (id.as_str(), a.status))
        .collect();
    assert_eq!(
        seen,
        [("1", 200), ("2", 403), ("3", 403), ("4", 405), ("5", 200)]
    );
    let (_, third) = &answers[2];
    assert_eq!(
        third.error(),
        (
            "Authorization_RequestDenied".to_string(),
            "Insufficient privileges to complete the operation.".to_string()
        )
    );
    // No Retry-After in the example: none invented.
    assert!(answers.iter().all(|(_, a)| a.retry_after.is_none()));
    assert_eq!(answers[4].1.body["@odata.count"], 36);
}

/// `GET`s answered with Microsoft's getPstnCalls example, then an empty last page (the
/// example's `@odata.nextLink` points further).
struct PstnExample {
    urls: Vec<String>,
}

impl GraphGet for PstnExample {
    fn get_json(&mut self, url: &str) -> Result<Value, String> {
        self.urls.push(url.to_string());
        Ok(if self.urls.len() == 1 {
            fixture("callrecord-getpstncalls.json")
        } else {
            json!({"value": []})
        })
    }
}

#[test]
fn the_client_reads_microsofts_pstn_call_log_example() {
    let at = |s: &str| s.parse::<DateTime<Utc>>().unwrap();
    let mut graph = PstnExample { urls: Vec::new() };
    let rows = fetch_pstn_calls(
        &mut graph,
        at("2019-11-01T00:00:00Z"),
        at("2019-12-01T00:00:00Z"),
    )
    .expect("the example parses");
    assert_eq!(rows.len(), 1);
    let row = &rows[0];
    assert_eq!(row.id, "9c4984c7-6c3c-427d-a30c-bd0b2eacee90");
    assert_eq!(
        row.user_principal_name.as_deref(),
        Some("richard.malk@contoso.com")
    );
    assert_eq!(row.duration, Some(219));
    assert_eq!(row.start_date_time, at("2019-11-01T00:00:08.2589935Z"));
    assert_eq!(row.charge, Some(commcred::base::money::Amount::ZERO));
    assert_eq!(row.currency_code().as_deref(), Some("USD"));
    assert_eq!(
        graph.urls.len(),
        2,
        "the nextLink was followed: {:?}",
        graph.urls
    );
}

// ---------------------------------------------------------------------------------------
// (b) The emulator answers with Microsoft's keys and value types.

/// The client's `$select` of users (crates/core/src/backend/graph/read.rs).
const USER_SELECT: &str =
    "id,userPrincipalName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates";

#[test]
fn the_comparison_finds_a_renamed_key_and_a_changed_type() {
    // The comparison itself can fail: a misnamed field and a number sent as a string.
    let ms = fixture("subscribedsku-list.json");
    let mut renamed = ms.clone();
    let sku = renamed["value"][0].as_object_mut().unwrap();
    let units = sku.remove("consumedUnits").unwrap();
    sku.insert("consumedUnit".into(), units);
    renamed["value"][1]["prepaidUnits"]["enabled"] = json!("0");
    let found = differences(&ms, &renamed, &Rules::default());
    assert!(
        found.contains(&"value[].consumedUnit: the emulator has it, Microsoft does not".into()),
        "{found:?}"
    );
    assert!(
        found.contains(&"value[].consumedUnits: Microsoft has it, the emulator does not".into()),
        "{found:?}"
    );
    assert!(
        found
            .iter()
            .any(|f| f.starts_with("value[].prepaidUnits.enabled: the emulator has String")),
        "{found:?}"
    );
    assert!(differences(&ms, &ms, &Rules::default()).is_empty());
}

/// A tenant with what every compared answer needs: users with licenses (direct and from a
/// group), a group with members, and two PSTN calls (Microsoft's example row, twice).
fn wire_tenant() -> commcred::tenant::Snapshot {
    let mut snapshot = rules_tenant();
    // Properties the compared examples show with values (Graph answers null for a property
    // without one, which says nothing of its type).
    for (key, value) in [
        ("displayName", "Alice Example"),
        ("mail", "alice@contoso.com"),
        ("mailNickname", "alice"),
        ("givenName", "Alice"),
        ("surname", "Example"),
        ("jobTitle", "Sales"),
        ("mobilePhone", "+1 425 555 0101"),
        ("officeLocation", "Redmond"),
        ("preferredLanguage", "en-US"),
    ] {
        snapshot.users[0].extra.insert(key.into(), json!(value));
    }
    snapshot.users[0]
        .extra
        .insert("businessPhones".into(), json!(["425-555-0100"]));
    snapshot.users[2]
        .extra
        .insert("mail".into(), json!("dave@contoso.com"));
    snapshot.groups = vec![
        serde_json::from_value(json!({
            "id": "9f0e6c1a-0000-4000-8000-00000000abcd",
            "displayName": "Audio conferencing",
            "assignedLicenses": [{"skuId": MCOMEETADV, "disabledPlans": []}],
            "members": ["00000000-0000-4000-8000-000000000003"]
        }))
        .unwrap(),
    ];
    let row = fixture("callrecord-getpstncalls.json")["value"][0].clone();
    let mut second = row.clone();
    second["id"] = json!("9c4984c7-6c3c-427d-a30c-bd0b2eacee91");
    second["startDateTime"] = json!("2019-11-02T00:00:08.2589935Z");
    snapshot
        .extra
        .insert("pstnCalls".into(), Value::Array(vec![row, second]));
    snapshot
}

#[tokio::test]
async fn the_emulator_answers_reads_with_microsofts_keys_and_types() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &wire_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let get = |path: &'static str| {
        let graph = &graph;
        async move {
            let (status, body) = graph.get(path).await;
            assert_eq!(status, 200, "{path}: {body}");
            body
        }
    };

    // The client asks for `id,verifiedDomains` (read.rs).
    let select = ["id", "verifiedDomains"];
    assert_same_wire(
        "organization",
        &selected(fixture("organization-list.json"), &select),
        &get("/organization?$select=id,verifiedDomains").await,
        &Rules::default(),
    );

    assert_same_wire(
        "subscribedSkus",
        &fixture("subscribedsku-list.json"),
        &get("/subscribedSkus").await,
        &Rules::default(),
    );

    // Graph's default properties, as "List users" Example 1.
    assert_same_wire(
        "users (default properties)",
        &fixture("user-list.json"),
        &get("/users").await,
        &Rules {
            null_ok: &[(
                "value[].displayName",
                "Graph requires a display name when a user is created (\"Create user\"); a \
                 snapshot without one is served null rather than an invented name",
            )],
            ..Rules::default()
        },
    );

    // The client's own `$select`, against the resources' JSON representations.
    let users = get(
        "/users?$select=id,userPrincipalName,usageLocation,accountEnabled,assignedLicenses,licenseAssignmentStates",
    )
    .await;
    let user_rules = Rules {
        representation: true,
        resources: vec![
            ("assignedLicense", fixture("assignedlicense-resource.json")),
            (
                "licenseAssignmentState",
                fixture("licenseassignmentstate-resource.json"),
            ),
        ],
        ..Rules::default()
    };
    let items = users["value"].as_array().expect("a value array");
    assert_eq!(items.len(), 3);
    for user in items {
        let keys: Vec<&str> = user
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys.iter().copied().collect::<BTreeSet<_>>(),
            USER_SELECT.split(',').collect::<BTreeSet<_>>(),
            "exactly the $select: {user}"
        );
        assert_same_wire("a user", &fixture("user-resource.json"), user, &user_rules);
    }
}

#[tokio::test]
async fn the_emulator_answers_counts_groups_pstn_batches_and_errors_like_microsofts_examples() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &wire_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;

    // `$count=true` with `ConsistencyLevel: eventual` ("List users", Example 4): the
    // envelope only (the example's item is a shortened one of another `$select`).
    let counted = graph
        .http
        .get(format!(
            "{}/v1.0/users?$filter=startswith(userPrincipalName,'a')&$count=true&$select=displayName,mail,mailNickname,userPrincipalName",
            graph.base
        ))
        .bearer_auth(&graph.token)
        .header("ConsistencyLevel", "eventual")
        .send()
        .await
        .unwrap();
    assert_eq!(counted.status().as_u16(), 200);
    let counted: Value = counted.json().await.unwrap();
    assert_eq!(counted["@odata.count"], 1, "{counted}");
    assert_same_wire(
        "users with $count",
        &fixture("user-list-count.json"),
        &counted,
        &Rules::default(),
    );

    let (status, groups) = graph.get("/groups?$select=id,displayName").await;
    assert_eq!(status, 200, "{groups}");
    assert_same_wire(
        "groups",
        &fixture("group-list-select.json"),
        &groups,
        &Rules {
            missing_ok: &[(
                "@odata.count",
                "Example 2 asks for $count=true; this request does not",
            )],
            ..Rules::default()
        },
    );

    // Example 1 is shortened to `id` and `mail` ("might be shortened for readability"):
    // ask for those.
    let (status, members) = graph
        .get("/groups/9f0e6c1a-0000-4000-8000-00000000abcd/transitiveMembers?$select=id,mail")
        .await;
    assert_eq!(status, 200, "{members}");
    assert_same_wire(
        "group transitive members",
        &fixture("group-list-transitivemembers.json"),
        &members,
        &Rules {
            extra_ok: &[(
                "@odata.context",
                "every Graph collection answer carries it (the other examples show it); Example 1 is shortened",
            )],
            ..Rules::default()
        },
    );

    let (status, calls) = graph
        .get("/communications/callRecords/getPstnCalls(fromDateTime=2019-11-01,toDateTime=2019-12-01)?$top=1")
        .await;
    assert_eq!(status, 200, "{calls}");
    assert_same_wire(
        "getPstnCalls",
        &fixture("callrecord-getpstncalls.json"),
        &calls,
        &Rules::default(),
    );

    // A refused write inside a `$batch`, and the same refusal as a plain answer.
    let refused = json!({"addLicenses": [{"skuId": "00000000-dead-4000-8000-000000000000", "disabledPlans": []}], "removeLicenses": []});
    let (status, batch) = graph
        .post(
            "/$batch",
            json!({"requests": [
                {"id": "1", "method": "GET", "url": "/users/alice@contoso.com?$select=id,userPrincipalName"},
                {"id": "2", "method": "POST", "url": "/users/alice@contoso.com/assignLicense",
                 "headers": {"Content-Type": "application/json"}, "body": refused},
            ]}),
        )
        .await;
    assert_eq!(status, 200, "{batch}");
    assert_same_wire(
        "$batch",
        &fixture("json-batch-response.json"),
        &batch,
        &Rules {
            // Each answer's headers and body are its own request's (the example's are
            // other requests'): compared as objects here, the error body below.
            opaque: &["responses[].headers", "responses[].body"],
            ..Rules::default()
        },
    );
    let error_body = batch["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "2")
        .map(|r| r["body"].clone())
        .unwrap();
    let error_rules = Rules {
        extra_ok: &[(
            "error.innerError.client-request-id",
            "Graph echoes the request's client-request-id (the $batch example's error bodies carry it)",
        )],
        ..Rules::default()
    };
    assert_same_wire(
        "an error in a $batch",
        &fixture("error-response.json"),
        &error_body,
        &error_rules,
    );
    let (status, plain) = graph
        .post("/users/alice@contoso.com/assignLicense", refused)
        .await;
    assert_eq!(status, 400, "{plain}");
    assert_same_wire(
        "an error",
        &fixture("error-response.json"),
        &plain,
        &error_rules,
    );
}
