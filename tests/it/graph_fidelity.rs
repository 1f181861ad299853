//! Microsoft Graph as Microsoft documents it, through the emulator on 127.0.0.1:0: Graph's
//! exact refusals for licensing, well-formed `$batch`es, OData annotations in bodies,
//! tokens carrying `roles` with Graph's 403 without them, live fault settings, and the
//! client naming a missing permission before it sends anything that needs it.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Value, json};

use crate::emulator::{
    Api, MCOEV, MCOMEETADV, MCOPSTN1, MCOPSTN2, TENANT_DOMAIN, read_tenant, rules_tenant, start,
    write_tenant,
};

const ALICE: &str = "/users/00000000-0000-4000-8000-000000000001";

fn assign(add: &[&str], remove: &[&str]) -> Value {
    json!({
        "addLicenses": add.iter().map(|s| json!({"skuId": s, "disabledPlans": []})).collect::<Vec<_>>(),
        "removeLicenses": remove,
    })
}

/// (status, code, message) of a Graph error answer, checking its shape.
fn refusal(status: u16, body: &Value) -> (u16, String, String) {
    let e = &body["error"];
    assert!(e["innerError"]["request-id"].is_string(), "{body}");
    (
        status,
        e["code"].as_str().unwrap().to_string(),
        e["message"].as_str().unwrap().to_string(),
    )
}

fn plan_id(part: &str) -> String {
    crate::emulator::service_plan_id(part)
}

#[tokio::test]
async fn licensing_refusals_are_graphs_own_words() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let before = std::fs::read_to_string(&tenant).unwrap();
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let post = |user: &str, body: Value| {
        let path = format!("{user}/assignLicense");
        let graph = &graph;
        async move {
            let (s, b) = graph.send(reqwest::Method::POST, &path, Some(body)).await;
            refusal(s, &b)
        }
    };
    let bad = |m: &str| (400, "Request_BadRequest".to_string(), m.to_string());
    assert_eq!(
        post("/users/bob@contoso.com", assign(&[MCOMEETADV], &[])).await,
        bad("License assignment cannot be done for user with invalid usage location.")
    );
    assert_eq!(
        post("/users/dave@contoso.com", assign(&[MCOEV, MCOPSTN1], &[])).await,
        bad(&format!(
            "Subscription with SKU {MCOPSTN1} does not have any available licenses."
        ))
    );
    let unknown = "11111111-2222-4333-8444-555555555555";
    assert_eq!(
        post(ALICE, assign(&[unknown], &[])).await,
        bad(&format!(
            "License {unknown} does not correspond to a valid company License."
        ))
    );
    assert_eq!(
        post(ALICE, assign(&[], &[MCOMEETADV])).await,
        bad("User does not have a corresponding license.")
    );
    assert_eq!(
        post("/users/dave@contoso.com", assign(&[], &[MCOMEETADV])).await,
        bad(
            "User license is inherited from a group membership and it cannot be removed directly from the user."
        )
    );
    assert_eq!(
        post(ALICE, assign(&[], &[MCOEV])).await,
        bad(&format!(
            "License assignment failed because service plan {} depends on the service plan(s) {}",
            plan_id("MCOPSTN1"),
            plan_id("MCOEV")
        ))
    );
    assert_eq!(
        post(ALICE, json!({"removeLicenses": []})).await,
        bad(
            "One or more parameters of the operation 'assignLicense' are missing from the request payload. The missing parameters are: addLicenses."
        )
    );
    assert_eq!(
        post("/users/nobody@contoso.com", assign(&[MCOEV], &[])).await,
        (
            404,
            "Request_ResourceNotFound".to_string(),
            "Resource 'nobody@contoso.com' does not exist or one of its queried reference-property objects are not present.".to_string()
        )
    );
    emu.shutdown().unwrap();
    assert_eq!(std::fs::read_to_string(&tenant).unwrap(), before);
}

#[tokio::test]
async fn a_second_calling_plan_is_not_refused() {
    // No Microsoft page says two Teams calling plans exclude each other (docs/licensing.md):
    // the emulator invents no such refusal, and Alice (Teams Phone, MCOPSTN1) gets MCOPSTN2.
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let path = format!("{ALICE}/assignLicense");
    let (status, body) = graph
        .send(reqwest::Method::POST, &path, Some(assign(&[MCOPSTN2], &[])))
        .await;
    assert_eq!(status, 200, "{body}");
    emu.shutdown().unwrap();
    let saved = read_tenant(&tenant);
    let alice = &saved.users[0];
    for sku in [MCOPSTN1, MCOPSTN2] {
        assert!(
            alice
                .assigned_licenses
                .iter()
                .any(|a| a.sku_id.eq_ignore_ascii_case(sku)),
            "{sku}"
        );
    }
}

#[tokio::test]
async fn batches_are_fully_parallel_or_one_chain() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let patch = |id: &str, user: &str, depends: Option<&str>| {
        let mut r = json!({"id": id, "method": "PATCH", "url": format!("/users/{user}"),
            "headers": {"Content-Type": "application/json"}, "body": {"usageLocation": "US"}});
        if let Some(d) = depends {
            r["dependsOn"] = json!([d]);
        }
        r
    };
    // A chain beside an independent item: the whole batch is refused, nothing runs.
    let mixed = json!({"requests": [
        patch("1", "bob@contoso.com", None),
        patch("2", "bob@contoso.com", Some("1")),
        patch("3", "dave@contoso.com", None),
    ]});
    let (s, body) = graph
        .send(reqwest::Method::POST, "/$batch", Some(mixed))
        .await;
    assert_eq!(
        refusal(s, &body),
        (
            400,
            "BadRequest".to_string(),
            "Batch should be either fully sequential or fully parallel".to_string()
        )
    );
    assert_eq!(emu.stats().writes, 0);
    // One chain, and fully parallel: both run.
    for batch in [
        json!({"requests": [patch("1", "bob@contoso.com", None), patch("2", "dave@contoso.com", Some("1"))]}),
        json!({"requests": [patch("1", "bob@contoso.com", None), patch("2", "dave@contoso.com", None)]}),
    ] {
        let (s, body) = graph
            .send(reqwest::Method::POST, "/$batch", Some(batch))
            .await;
        assert_eq!(s, 200, "{body}");
        for r in body["responses"].as_array().unwrap() {
            assert_eq!(r["status"], 204, "{body}");
        }
    }
    assert_eq!(emu.stats().writes, 4);
}

#[tokio::test]
async fn odata_annotations_are_accepted_and_answers_carry_their_context() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let body = json!({"@odata.type": "#microsoft.graph.user", "usageLocation": "FR"});
    let (s, b) = graph
        .send(reqwest::Method::PATCH, "/users/bob@contoso.com", Some(body))
        .await;
    assert_eq!(s, 204, "{b}");
    let wrong = json!({"@odata.type": "#microsoft.graph.group", "usageLocation": "DE"});
    let (s, b) = graph
        .send(
            reqwest::Method::PATCH,
            "/users/bob@contoso.com",
            Some(wrong),
        )
        .await;
    assert_eq!(refusal(s, &b).1, "BadRequest");
    let annotated = json!({
        "addLicenses": [{"@odata.type": "microsoft.graph.assignedLicense", "skuId": MCOMEETADV, "disabledPlans": []}],
        "removeLicenses": []
    });
    let (s, b) = graph
        .send(
            reqwest::Method::POST,
            "/users/bob@contoso.com/assignLicense",
            Some(annotated),
        )
        .await;
    assert_eq!(s, 200, "{b}");
    let base = emu.base_url();
    assert_eq!(
        b["@odata.context"],
        format!("{base}/v1.0/$metadata#users/$entity")
    );
    for (path, context) in [
        ("/organization", "organization"),
        ("/subscribedSkus", "subscribedSkus"),
        ("/users?$select=id", "users(id)"),
        ("/users/bob@contoso.com", "users/$entity"),
    ] {
        let (s, b) = graph.send(reqwest::Method::GET, path, None).await;
        assert_eq!(s, 200, "{path}: {b}");
        assert_eq!(
            b["@odata.context"],
            format!("{base}/v1.0/$metadata#{context}"),
            "{path}"
        );
    }
    emu.shutdown().unwrap();
    let saved = read_tenant(&tenant);
    assert_eq!(saved.users[1].usage_location.as_deref(), Some("FR"));
    assert_eq!(saved.users[1].assigned_licenses.len(), 1);
}

#[tokio::test]
async fn tokens_carry_roles_and_graph_answers_403_without_them() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |c| {
        c.roles = Some(vec!["User.Read.All".into(), "Organization.Read.All".into()]);
    });
    let graph = Api::new(&emu).await;
    let payload = graph.token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(
        claims["roles"],
        json!(["User.Read.All", "Organization.Read.All"])
    );
    assert_eq!(claims["aud"], "https://graph.microsoft.com");
    assert_eq!(claims["tid"], "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f");

    let (s, _) = graph.send(reqwest::Method::GET, "/users", None).await;
    assert_eq!(s, 200);
    let denied = (
        403,
        "Authorization_RequestDenied".to_string(),
        "Insufficient privileges to complete the operation.".to_string(),
    );
    let (s, b) = graph
        .send(
            reqwest::Method::POST,
            &format!("{ALICE}/assignLicense"),
            Some(assign(&[MCOMEETADV], &[])),
        )
        .await;
    assert_eq!(refusal(s, &b), denied);
    let (s, b) = graph
        .send(
            reqwest::Method::GET,
            "/communications/callRecords/getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-01-02)",
            None,
        )
        .await;
    assert_eq!(refusal(s, &b), denied);
    // Inside a batch, per item.
    let batch = json!({"requests": [{"id": "1", "method": "PATCH", "url": "/users/bob@contoso.com",
        "headers": {"Content-Type": "application/json"}, "body": {"usageLocation": "US"}}]});
    let (_, b) = graph
        .send(reqwest::Method::POST, "/$batch", Some(batch))
        .await;
    assert_eq!(b["responses"][0]["status"], 403);
    let stats = emu.stats();
    assert_eq!((stats.forbidden, stats.writes), (3, 0));
}

#[tokio::test]
async fn faults_change_while_the_emulator_runs() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let http = reqwest::Client::new();
    let faults = format!("{}/_emulator/faults", emu.base_url());
    let get: Value = http
        .get(&faults)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        get,
        json!({"throttleRate": 0.0, "errorRate": 0.0, "dropRate": 0.0, "retryAfter": 1})
    );
    // A burst: every unit is throttled with the new Retry-After.
    let r = http
        .post(&faults)
        .body(r#"{"throttleRate": 1.0, "retryAfter": 7}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let now: Value = r.json().await.unwrap();
    assert_eq!(
        now,
        json!({"throttleRate": 1.0, "errorRate": 0.0, "dropRate": 0.0, "retryAfter": 7})
    );
    let patch = || {
        graph
            .http
            .patch(format!("{}/v1.0/users/bob@contoso.com", graph.base))
            .bearer_auth(&graph.token)
            .json(&json!({"usageLocation": "US"}))
            .send()
    };
    let r = patch().await.unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "7");
    // Bad settings change nothing.
    for bad in [
        r#"{"errorRate": 2}"#,
        r#"{"retryAfter": -1}"#,
        r#"{"speed": 1}"#,
        "{",
    ] {
        let r = http.post(&faults).body(bad).send().await.unwrap();
        assert_eq!(r.status(), 400, "{bad}");
        let body: Value = r.json().await.unwrap();
        assert!(body["error"].is_string(), "{body}");
    }
    // The burst ends.
    let r = http
        .post(&faults)
        .body(r#"{"throttleRate": 0}"#)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(patch().await.unwrap().status(), 204);
    let get: Value = http
        .get(&faults)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(get["retryAfter"], 7);
    assert_eq!(emu.stats().injected_throttled, 1);
    let _ = TENANT_DOMAIN;
}

#[test]
fn apply_without_the_license_permission_exits_1_naming_it_and_changes_nothing() {
    let dir = crate::common::example("quickstart");
    // Without credits: this test is about licenses.
    let yaml_path = dir.path().join("commcred.yaml");
    let yaml = std::fs::read_to_string(&yaml_path).unwrap();
    let (start, end) = (
        yaml.find("communicationsCredits:").unwrap(),
        yaml.find("profiles:").unwrap(),
    );
    std::fs::write(&yaml_path, format!("{}{}", &yaml[..start], &yaml[end..])).unwrap();
    let tenant = dir.path().join("tenant.json");
    let before = std::fs::read_to_string(&tenant).unwrap();
    let emulator = crate::emulator::spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--roles",
            "User.Read.All,Organization.Read.All,GroupMember.Read.All",
        ],
        &[],
    );
    let run = |args: &[&str]| {
        let mut cmd = crate::common::commcred(dir.path());
        cmd.env("COMMCRED_BACKEND", format!("graph:{}", emulator.url))
            .env("AZURE_TENANT_ID", TENANT_DOMAIN)
            .env("AZURE_CLIENT_ID", "commcred-cli")
            .env("AZURE_CLIENT_SECRET", "secret")
            .env_remove("AZURE_AUTHORITY_HOST");
        cmd.args(args).output().unwrap()
    };
    // Reading is allowed: the plan shows the license changes.
    let plan = run(&["plan", "--detailed-exitcode"]);
    assert_eq!(plan.status.code(), Some(2), "{plan:?}");
    let apply = run(&["apply", "--auto-approve"]);
    let stderr = crate::common::flat_stderr(&apply);
    assert_eq!(apply.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("commcred::graph::missing_permissions"),
        "{stderr}"
    );
    assert!(
        stderr.contains("LicenseAssignment.ReadWrite.All (to assign and remove licenses;"),
        "{stderr}"
    );
    // Nothing reached the tenant.
    drop(emulator);
    assert_eq!(std::fs::read_to_string(&tenant).unwrap(), before);
}

#[test]
fn reading_pstn_usage_without_call_records_permission_names_it_before_asking() {
    use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |c| {
        c.roles = Some(vec![
            "User.Read.All".into(),
            "Organization.Read.All".into(),
            "LicenseAssignment.ReadWrite.All".into(),
        ]);
    });
    let credentials =
        Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new("secret"));
    let options = GraphOptions::new(Some(&emu.base_url()), credentials);
    let mut backend = GraphBackend::new(options).unwrap();
    let err = commcred::backend::graph::pstn::fetch_pstn_calls(
        &mut backend,
        "2026-01-01T00:00:00Z".parse().unwrap(),
        "2026-02-01T00:00:00Z".parse().unwrap(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("CallRecord-PstnCalls.Read.All (to read the PSTN call log"),
        "{err}"
    );
    let stats = emu.stats();
    // Only the token was asked for: no getPstnCalls request left the client.
    assert_eq!(stats.http_requests, stats.token_requests);
    assert_eq!(stats.forbidden, 0);
}

#[tokio::test]
async fn get_pstn_calls_answers_with_or_without_its_namespace() {
    let dir = tempfile::tempdir().unwrap();
    let mut snapshot = rules_tenant();
    snapshot.extra.insert(
        "pstnCalls".into(),
        json!([{"id": "c1", "startDateTime": "2026-01-10T09:00:00Z", "charge": "0.10",
                "currency": "USD", "userPrincipalName": "alice@contoso.com"}]),
    );
    let tenant = write_tenant(dir.path(), &snapshot);
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    for function in ["getPstnCalls", "microsoft.graph.callRecords.getPstnCalls"] {
        let path = format!(
            "/communications/callRecords/{function}(fromDateTime=2026-01-01T00:00:00Z,toDateTime=2026-02-01T00:00:00Z)"
        );
        let (s, body) = graph.send(reqwest::Method::GET, &path, None).await;
        assert_eq!(s, 200, "{function}: {body}");
        assert_eq!(body["value"][0]["id"], "c1", "{function}");
        assert!(body["@odata.context"].is_string(), "{body}");
    }
    let (s, body) = graph
        .send(
            reqwest::Method::GET,
            "/communications/callRecords/microsoft.graph.getPstnCalls(fromDateTime=2026-01-01,toDateTime=2026-01-02)",
            None,
        )
        .await;
    assert_eq!(refusal(s, &body).0, 400);
}

/// A tenant of `n` users whose names start with many different characters.
fn varied_tenant(n: usize, extra_upns: &[&str]) -> commcred::tenant::Snapshot {
    const NAMES: [&str; 12] = [
        "anna", "ben", "chloe", "dev", "emma", "jack", "li", "maria", "noah", "omar", "sam",
        "9lives",
    ];
    let mut snapshot = crate::testkit::tenant(n, 7);
    for (i, u) in snapshot.users.iter_mut().enumerate() {
        u.user_principal_name = format!("{}.{i}@contoso.com", NAMES[i % NAMES.len()]);
    }
    for (k, upn) in extra_upns.iter().enumerate() {
        let mut user = snapshot.users[0].clone();
        user.id = format!("00000000-0000-4000-9000-{k:012}");
        user.user_principal_name = upn.to_string();
        snapshot.users.push(user);
    }
    snapshot
}

#[tokio::test]
async fn users_answer_count_and_startswith_filter_under_graphs_rules() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &varied_tenant(30, &["O'Brien@contoso.com"]));
    let emu = start(&tenant, |_| {});
    let graph = Api::new(&emu).await;
    let get = |path: &str, eventual: bool| {
        let mut r = graph
            .http
            .get(format!("{}/v1.0{path}", graph.base))
            .bearer_auth(&graph.token);
        if eventual {
            r = r.header("ConsistencyLevel", "eventual");
        }
        async move {
            let response = r.send().await.unwrap();
            let status = response.status().as_u16();
            let text = response.text().await.unwrap();
            (status, text)
        }
    };
    // /users/$count: only with ConsistencyLevel: eventual ("Advanced query capabilities").
    let (s, text) = get("/users/$count", false).await;
    let body: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(
        refusal(s, &body),
        (
            400,
            "Request_BadRequest".into(),
            "$count is not currently supported.".into()
        )
    );
    assert_eq!(get("/users/$count", true).await, (200, "31".to_string()));
    // $count=true: ignored without the header, the total of the filter's matches with it.
    let filter = "$filter=startswith(userPrincipalName,'ANNA')&$top=2&$count=true";
    let (_, text) = get(&format!("/users?{filter}"), false).await;
    let page: Value = serde_json::from_str(&text).unwrap();
    assert!(page.get("@odata.count").is_none(), "{page}");
    let (s, text) = get(&format!("/users?{filter}&$select=userPrincipalName"), true).await;
    assert_eq!(s, 200, "{text}");
    let mut page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["@odata.count"], 3);
    let mut seen = Vec::new();
    loop {
        for u in page["value"].as_array().unwrap() {
            seen.push(u["userPrincipalName"].as_str().unwrap().to_string());
        }
        let Some(next) = page["@odata.nextLink"].as_str() else {
            break;
        };
        let path = next.split("/v1.0").nth(1).unwrap().to_string();
        page = serde_json::from_str(&get(&path, true).await.1).unwrap();
    }
    assert_eq!(
        seen,
        [
            "anna.0@contoso.com",
            "anna.12@contoso.com",
            "anna.24@contoso.com"
        ]
    );
    // A quote in the literal is doubled, as OData writes it.
    let (_, text) = get("/users?$filter=startswith(userPrincipalName,'o''b')", false).await;
    let page: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(page["value"][0]["userPrincipalName"], "O'Brien@contoso.com");
    // What the emulator does not implement, and Graph's $top limit, are refused.
    for path in [
        "/users?$filter=startswith(displayName,'a')",
        "/users?$filter=accountEnabled eq true",
        "/users?$top=1000",
        "/users?$orderby=displayName",
    ] {
        let (s, text) = get(path, true).await;
        assert_eq!(s, 400, "{path}: {text}");
    }
}

fn graph_backend(emu: &commcred_emulator::Emulator) -> commcred::backend::graph::GraphBackend {
    use commcred::backend::graph::{Credentials, GraphBackend, GraphOptions, Secret};
    let credentials =
        Credentials::with_secret(TENANT_DOMAIN, "commcred-tests", Secret::new("secret"));
    GraphBackend::new(GraphOptions::new(Some(&emu.base_url()), credentials)).unwrap()
}

/// Reads `snapshot` through an emulator with the graph backend: the users' ids (sorted) and
/// how the users were read.
fn read_through_graph(
    snapshot: &commcred::tenant::Snapshot,
) -> (Vec<String>, Option<commcred::backend::graph::UsersRead>) {
    use commcred::backend::Backend;
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), snapshot);
    let emu = start(&tenant, |_| {});
    let mut backend = graph_backend(&emu);
    let read = backend.read().unwrap();
    let mut ids: Vec<String> = read.users.iter().map(|u| u.id.clone()).collect();
    ids.sort();
    (ids, backend.last_users_read())
}

#[test]
fn large_tenants_are_read_in_parallel_segments_proven_complete_by_count() {
    use commcred::backend::graph::UsersRead::*;
    let ids = |s: &commcred::tenant::Snapshot| {
        let mut v: Vec<String> = s.users.iter().map(|u| u.id.clone()).collect();
        v.sort();
        v
    };
    // Every first character is a segment: read in parallel, and complete.
    let snapshot = varied_tenant(2_500, &["O'Brien@contoso.com", "_svc@contoso.com"]);
    assert_eq!(snapshot.users.len(), 2_502);
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(Parallel))
    );
    // A name starting with a character no segment covers: the sums do not match Graph's
    // count, so every user is read again page after page, and none is missing.
    let snapshot = varied_tenant(2_500, &["+odd@contoso.com"]);
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(FellBack))
    );
    // One first character for everyone: the segment is split by the next characters
    // (`u` -> `us` -> `use` -> `user`), each part proven by its own count.
    let snapshot = crate::testkit::tenant(2_100, 5);
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(Parallel))
    );
    // Names that share a long prefix, in order (the first page of each segment shows only
    // one next character): split past the prefix, with no fixed depth, each part proven.
    let mut snapshot = crate::testkit::tenant(6_000, 3);
    for (i, u) in snapshot.users.iter_mut().enumerate() {
        u.user_principal_name = format!("user{i:05}@contoso.com");
    }
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(Parallel))
    );
    // Guests (`#EXT#`, half the tenant, under a shared `ext_`), apostrophes, digits, `_`,
    // `-` and `.` first.
    let mut snapshot = crate::testkit::tenant(4_200, 4);
    let shapes = [
        "o'neil.{i}@contoso.com",
        "{i}@contoso.com",
        "_svc{i}@contoso.com",
        "-ops{i}@contoso.com",
        ".dot{i}@contoso.com",
    ];
    for (i, u) in snapshot.users.iter_mut().enumerate() {
        let shape = match i % 10 {
            0..5 => "ext_{i}_gmail.com#EXT#@contoso.onmicrosoft.com",
            k => shapes[k - 5],
        };
        u.user_principal_name = shape.replace("{i}", &i.to_string());
    }
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(Parallel))
    );
    // A small tenant: page after page, no count needed.
    let snapshot = varied_tenant(50, &[]);
    assert_eq!(
        read_through_graph(&snapshot),
        (ids(&snapshot), Some(Sequential))
    );
}

#[tokio::test]
async fn the_emulator_binary_takes_latency_and_roles_flags() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emulator = crate::emulator::spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--latency",
            "300ms",
            "--roles",
            "",
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let token = crate::emulator::token(&http, &emulator.url).await;
    let started = std::time::Instant::now();
    let r = http
        .get(format!("{}/v1.0/users", emulator.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    // No permission granted: Graph's 403, after the link's delay.
    assert_eq!(r.status(), 403);
    assert!(started.elapsed() >= std::time::Duration::from_millis(300));
    let payload = token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap();
    assert_eq!(claims["roles"], json!([]));
    drop(emulator);
    // An unknown permission name is refused at start.
    let out = crate::common::commcred(dir.path())
        .args([
            "emulator",
            "--tenant",
            tenant.to_str().unwrap(),
            "--roles",
            "User.Read.Al",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("commcred::emulator::bad_flag"));
}

#[test]
fn plan_reading_credits_usage_without_call_records_exits_1_naming_it() {
    let dir = crate::common::example("quickstart");
    let yaml = "apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
communicationsCredits:
  currency: USD
  minimumBalance: 500.00
  autoRecharge: {enabled: true, triggerBelow: 100.00, rechargeAmount: 250.00}
  payment: {method: enterpriseAgreement, agreementNumber: \"62839471\", purchaseOrder: PO-2026-114}
  ledger: state/credits.json
";
    std::fs::write(dir.path().join("commcred.yaml"), yaml).unwrap();
    std::fs::create_dir(dir.path().join("state")).unwrap();
    crate::common::commcred(dir.path())
        .args([
            "ledger",
            "record",
            "--billing-account",
            "MOSA",
            "--fund",
            "120.50@2026-03-15",
            "--by",
            "alice",
        ])
        .assert()
        .success();
    let tenant = dir.path().join("tenant.json");
    let before = std::fs::read_to_string(&tenant).unwrap();
    let emu = start(&tenant, |c| {
        c.roles = Some(vec![
            "User.Read.All".into(),
            "Organization.Read.All".into(),
            "GroupMember.Read.All".into(),
        ]);
    });
    let out = crate::common::commcred(dir.path())
        .env("COMMCRED_BACKEND", format!("graph:{}", emu.base_url()))
        .env("AZURE_TENANT_ID", TENANT_DOMAIN)
        .env("AZURE_CLIENT_ID", "commcred-cli")
        .env("AZURE_CLIENT_SECRET", "secret")
        .env_remove("AZURE_AUTHORITY_HOST")
        .args(["plan", "--out", "plan.json"])
        .output()
        .unwrap();
    let stderr = crate::common::flat_stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("CallRecord-PstnCalls.Read.All (to read the PSTN call log"),
        "{stderr}"
    );
    assert!(!dir.path().join("plan.json").exists());
    // No getPstnCalls reached Graph, and nothing changed.
    assert_eq!(emu.stats().forbidden, 0);
    drop(emu);
    assert_eq!(std::fs::read_to_string(&tenant).unwrap(), before);
}
