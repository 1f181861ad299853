//! The Graph emulator on the wire: tokens, paging, `$batch`, Graph's rules and error bodies,
//! throttling, fault injection and persistence. Every emulator listens on 127.0.0.1:0 and
//! stops when its handle drops.

#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use commcred::tenant::Snapshot;
use commcred_emulator::{self as emulator, Emulator, EmulatorConfig, ExpectedClient};
use serde_json::{Value, json};

pub const TENANT_DOMAIN: &str = "contoso.onmicrosoft.com";
pub const MCOMEETADV: &str = "0c266dff-15dd-4b49-8397-2bb16070ed52";
pub const MCOEV: &str = "e43b5b99-8dfb-405f-9987-dc307f34bcbd";
pub const MCOPSTN1: &str = "0dab259f-bf13-4952-b7f8-7db8f131b28d";
pub const MCOPSTN2: &str = "d3b4fe1f-9992-4930-8acb-ca6ec609365e";

/// Writes `snapshot` as the tenant file in `dir`.
pub fn write_tenant(dir: &Path, snapshot: &Snapshot) -> PathBuf {
    let path = dir.join("tenant.json");
    std::fs::write(&path, commcred::tenant::snapshot_to_string(snapshot)).unwrap();
    path
}

pub fn read_tenant(path: &Path) -> Snapshot {
    commcred::backend::file::read_snapshot(path).unwrap()
}

/// An emulator on 127.0.0.1:0 serving `tenant`, configured by `tweak`.
pub fn start(tenant: &Path, tweak: impl FnOnce(&mut EmulatorConfig)) -> Emulator {
    let mut config = EmulatorConfig::new(tenant);
    tweak(&mut config);
    emulator::serve(config).unwrap()
}

/// The service plan id `rules_tenant` gives the one plan of the SKU `part` (distinct per part).
pub fn service_plan_id(part: &str) -> String {
    let digits: String = part.bytes().map(|b| format!("{:02}", b % 100)).collect();
    format!(
        "5e1f0000-0000-4000-8000-{:0>12}",
        &digits[digits.len().saturating_sub(12)..]
    )
}

/// A small hand-written tenant exercising every rule.
pub fn rules_tenant() -> Snapshot {
    let sku = |id: &str, part: &str, enabled: i64, consumed: i64, applies: &str| {
        json!({
            "skuId": id, "skuPartNumber": part, "appliesTo": applies,
            "capabilityStatus": "Enabled",
            "prepaidUnits": {"enabled": enabled, "warning": 0, "suspended": 0, "lockedOut": 0},
            "consumedUnits": consumed,
            "servicePlans": [{"servicePlanId": service_plan_id(part), "servicePlanName": part}],
            "accountName": "contoso"
        })
    };
    let value = json!({
        "tenant": {"id": "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f", "domain": TENANT_DOMAIN, "displayName": "Contoso"},
        "subscribedSkus": [
            sku(MCOMEETADV, "MCOMEETADV", 10, 1, "User"),
            sku(MCOEV, "MCOEV", 10, 1, "User"),
            sku(MCOPSTN1, "MCOPSTN1", 1, 1, "User"),
            sku(MCOPSTN2, "MCOPSTN2", 10, 0, "User"),
            sku("aaaaaaaa-0000-4000-8000-000000000001", "PHONESYSTEM_VIRTUALUSER", 10, 0, "Company"),
        ],
        "users": [
            {"id": "00000000-0000-4000-8000-000000000001", "userPrincipalName": "alice@contoso.com",
             "usageLocation": "US", "department": "Sales",
             "assignedLicenses": [{"skuId": MCOEV, "disabledPlans": []}, {"skuId": MCOPSTN1, "disabledPlans": []}],
             "licenseAssignmentStates": [
                {"skuId": MCOEV, "assignedByGroup": null, "state": "Active"},
                {"skuId": MCOPSTN1, "assignedByGroup": null, "state": "Active"}]},
            {"id": "00000000-0000-4000-8000-000000000002", "userPrincipalName": "bob@contoso.com",
             "usageLocation": null, "assignedLicenses": []},
            {"id": "00000000-0000-4000-8000-000000000003", "userPrincipalName": "dave@contoso.com",
             "usageLocation": "GB",
             "assignedLicenses": [{"skuId": MCOMEETADV, "disabledPlans": []}],
             "licenseAssignmentStates": [
                {"skuId": MCOMEETADV, "assignedByGroup": "9f0e6c1a-0000-4000-8000-00000000abcd", "state": "Active"}]}
        ],
        "someFutureField": {"kept": true}
    });
    serde_json::from_value(value).unwrap()
}

/// A token from the emulator's client-credentials endpoint.
pub async fn token(http: &reqwest::Client, base: &str) -> String {
    let r: Value = http
        .post(format!("{base}/{TENANT_DOMAIN}/oauth2/v2.0/token"))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", "tests"),
            ("client_secret", "tests-secret"),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    r["access_token"].as_str().unwrap().to_string()
}

/// A Graph client for tests: a token from the emulator, paths relative to `/v1.0`.
pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub token: String,
}

impl Api {
    pub async fn new(emulator: &Emulator) -> Api {
        let http = reqwest::Client::new();
        let base = emulator.base_url();
        let token = token(&http, &base).await;
        Api { http, base, token }
    }

    pub async fn send(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method, format!("{}/v1.0{path}", self.base))
            .bearer_auth(&self.token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let response = r.send().await.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    pub async fn get(&self, path: &str) -> (u16, Value) {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }
}

/// Asserts Graph's error body shape exactly and returns (code, message).
pub fn graph_error(body: &Value) -> (String, String) {
    let root = body.as_object().expect("an object");
    assert_eq!(root.keys().collect::<Vec<_>>(), ["error"], "{body}");
    let e = root["error"].as_object().unwrap();
    assert_eq!(
        e.keys().collect::<Vec<_>>(),
        ["code", "message", "innerError"],
        "{body}"
    );
    (
        e["code"].as_str().unwrap().to_string(),
        e["message"].as_str().unwrap().to_string(),
    )
}

fn assign(add: &[&str], remove: &[&str]) -> Value {
    json!({
        "addLicenses": add.iter().map(|s| json!({"skuId": s, "disabledPlans": []})).collect::<Vec<_>>(),
        "removeLicenses": remove,
    })
}

#[tokio::test]
async fn emulator_requires_a_token_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |c| {
        c.client = Some(ExpectedClient {
            client_id: "app".into(),
            client_secret: "right-secret".into(),
        })
    });
    let http = reqwest::Client::new();
    let base = emu.base_url();

    let r = http.get(format!("{base}/v1.0/users")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let (code, message) = graph_error(&r.json().await.unwrap());
    assert_eq!(code, "InvalidAuthenticationToken");
    assert_eq!(message, "Access token is empty.");

    let r = http
        .get(format!("{base}/v1.0/users"))
        .bearer_auth("forged")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 401);

    let form = |secret: &'static str| {
        [
            ("grant_type", "client_credentials"),
            ("client_id", "app"),
            ("client_secret", secret),
            ("scope", "https://graph.microsoft.com/.default"),
        ]
    };
    let url = format!("{base}/{TENANT_DOMAIN}/oauth2/v2.0/token");
    let r = http.post(&url).form(&form("wrong")).send().await.unwrap();
    assert_eq!(r.status(), 401);
    let body: Value = r.json().await.unwrap();
    assert_eq!(body["error"], "invalid_client");
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .starts_with("AADSTS7000215")
    );

    let r = http
        .post(format!(
            "{base}/nosuchtenant.onmicrosoft.com/oauth2/v2.0/token"
        ))
        .form(&form("right-secret"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    let r: Value = http
        .post(&url)
        .form(&form("right-secret"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(r["token_type"], "Bearer");
    let token = r["access_token"].as_str().unwrap();
    let r = http
        .get(format!("{base}/v1.0/organization"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let org: Value = r.json().await.unwrap();
    let domains = org["value"][0]["verifiedDomains"].as_array().unwrap();
    let initial: Vec<&Value> = domains.iter().filter(|d| d["isInitial"] == true).collect();
    assert_eq!(initial.len(), 1);
    assert_eq!(initial[0]["name"], TENANT_DOMAIN);
    assert_eq!(
        org["value"][0]["id"],
        "7f1c2d3e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
    );
}

#[tokio::test]
async fn emulator_pages_users_with_select_and_top() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &crate::testkit::tenant(2_100, 3));
    let emu = start(&tenant, |_| {});
    let api = Api::new(&emu).await;

    // Default page: 100, default properties only.
    let (status, page) = api.get("/users").await;
    assert_eq!(status, 200);
    assert_eq!(page["value"].as_array().unwrap().len(), 100);
    assert!(page["value"][0].get("assignedLicenses").is_none());
    assert!(page["value"][0].get("displayName").is_some());

    let (status, body) = api.get("/users?$top=1000").await;
    assert_eq!(status, 400);
    assert!(graph_error(&body).1.contains("between 1 and 999"));

    let (status, body) = api.get("/users?$select=id,shoeSize").await;
    assert_eq!(status, 400);
    assert!(graph_error(&body).1.contains("shoeSize"));

    let mut url = format!(
        "{}/v1.0/users?$select=id,userPrincipalName,licenseAssignmentStates&$top=999",
        emu.base_url()
    );
    let mut sizes = Vec::new();
    let mut ids = std::collections::HashSet::new();
    loop {
        let page: Value = api
            .http
            .get(&url)
            .bearer_auth(&api.token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let users = page["value"].as_array().unwrap();
        sizes.push(users.len());
        for u in users {
            let keys: Vec<&String> = u.as_object().unwrap().keys().collect();
            assert_eq!(keys, ["id", "userPrincipalName", "licenseAssignmentStates"]);
            assert!(ids.insert(u["id"].as_str().unwrap().to_string()));
        }
        match page["@odata.nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    assert_eq!(sizes, [999, 999, 102]);
    assert_eq!(ids.len(), 2_100);
}

#[tokio::test]
async fn emulator_applies_graph_rules_with_graph_errors() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let api = Api::new(&emu).await;
    let alice = "/users/00000000-0000-4000-8000-000000000001";
    let bob = "/users/bob@contoso.com";
    let dave = "/users/dave@contoso.com";

    let cases: Vec<(&str, Value, u16, &str, &str)> = vec![
        // No usage location yet.
        (
            bob,
            assign(&[MCOMEETADV], &[]),
            400,
            "Request_BadRequest",
            "usage location",
        ),
        // MCOPSTN1 has 1 seat, used by alice.
        (
            "/users/dave@contoso.com",
            assign(&[MCOEV, MCOPSTN1], &[]),
            400,
            "Request_BadRequest",
            "does not have any available licenses",
        ),
        // A calling plan without Teams Phone.
        (
            alice,
            assign(&[], &[MCOEV]),
            400,
            "Request_BadRequest",
            "depends on",
        ),
        // Group-inherited.
        (
            dave,
            assign(&[], &[MCOMEETADV]),
            400,
            "Request_BadRequest",
            "inherited from a group",
        ),
        // A company SKU.
        (
            alice,
            assign(&["aaaaaaaa-0000-4000-8000-000000000001"], &[]),
            400,
            "Request_BadRequest",
            "cannot be assigned to a user",
        ),
        // Both parameters are required.
        (
            alice,
            json!({"addLicenses": []}),
            400,
            "Request_BadRequest",
            "The missing parameters are: removeLicenses.",
        ),
        // Unknown user.
        (
            "/users/nobody@contoso.com",
            assign(&[MCOEV], &[]),
            404,
            "Request_ResourceNotFound",
            "does not exist",
        ),
    ];
    for (user, body, status, code, words) in cases {
        let (s, answer) = api.post(&format!("{user}/assignLicense"), body).await;
        assert_eq!(s, status, "{user}: {answer}");
        let (c, m) = graph_error(&answer);
        assert_eq!(c, code);
        assert!(m.contains(words), "{m}");
    }
    let (s, answer) = api
        .send(
            reqwest::Method::PATCH,
            bob,
            Some(json!({"usageLocation": "UK"})),
        )
        .await;
    assert_eq!(s, 400);
    assert!(graph_error(&answer).1.contains("usageLocation"));

    // A calling-plan swap in one call is valid.
    let (s, _) = api
        .post(
            &format!("{alice}/assignLicense"),
            assign(&[MCOPSTN2], &[MCOPSTN1]),
        )
        .await;
    assert_eq!(s, 200);
    // Nothing refused above changed the tenant; the swap did, and unknown fields survive.
    let after = std::fs::read_to_string(&tenant).unwrap();
    let v: Value = serde_json::from_str(&after).unwrap();
    assert_eq!(v["someFutureField"], json!({"kept": true}));
    assert_eq!(v["users"][0]["department"], "Sales");
    assert_eq!(v["users"][1]["usageLocation"], Value::Null);
    assert_eq!(v["subscribedSkus"][2]["consumedUnits"], 0);
    assert_eq!(v["subscribedSkus"][3]["consumedUnits"], 1);
    assert_eq!(v["subscribedSkus"][0]["accountName"], "contoso");
    let stats = emu.stats();
    assert_eq!(stats.effective_changes, 1);
    assert_eq!(stats.refused_writes, 8);
}

#[tokio::test]
async fn emulator_batches_with_depends_on_and_424() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let api = Api::new(&emu).await;
    let item = |id: &str, location: &str, depends: Option<&str>| {
        let mut v = json!({
            "id": format!("{id}-loc"), "method": "PATCH", "url": "/users/bob@contoso.com",
            "headers": {"Content-Type": "application/json"}, "body": {"usageLocation": location}
        });
        let mut lic = json!({
            "id": format!("{id}-lic"), "method": "POST", "url": "/users/bob@contoso.com/assignLicense",
            "headers": {"Content-Type": "application/json"}, "body": assign(&[MCOMEETADV], &[]),
            "dependsOn": [format!("{id}-loc")]
        });
        if let Some(d) = depends {
            v["dependsOn"] = json!([d]);
        }
        lic["id"] = json!(format!("{id}-lic"));
        vec![v, lic]
    };
    let (s, body) = api
        .post("/$batch", json!({"requests": item("a", "XX", None)}))
        .await;
    assert_eq!(s, 200);
    let r = body["responses"].as_array().unwrap();
    assert_eq!(r[0]["status"], 400);
    assert_eq!(r[1]["status"], 424);
    graph_error(&r[1]["body"]);

    let (s, body) = api
        .post("/$batch", json!({"requests": item("b", "US", None)}))
        .await;
    assert_eq!(s, 200);
    let r = body["responses"].as_array().unwrap();
    assert_eq!(
        (r[0]["status"].as_u64(), r[1]["status"].as_u64()),
        (Some(204), Some(200))
    );

    let many: Vec<Value> = (0..21)
        .map(|n| json!({"id": n.to_string(), "method": "GET", "url": "/users"}))
        .collect();
    let (s, body) = api.post("/$batch", json!({"requests": many})).await;
    assert_eq!(s, 400);
    graph_error(&body);

    let saved = read_tenant(&tenant);
    assert_eq!(saved.users[1].usage_location.as_deref(), Some("US"));
    assert_eq!(saved.users[1].assigned_licenses.len(), 1);
}

#[tokio::test]
async fn emulator_throttles_writes_per_item_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |c| {
        c.quota.limit = 3;
        c.quota.window = Duration::from_secs(30);
    });
    let api = Api::new(&emu).await;
    let patch = |n: usize| {
        json!({"id": n.to_string(), "method": "PATCH", "url": "/users/bob@contoso.com",
               "headers": {"Content-Type": "application/json"},
               "body": {"usageLocation": if n.is_multiple_of(2) { "US" } else { "GB" }}})
    };
    let (s, body) = api
        .post(
            "/$batch",
            json!({"requests": (0..5).map(patch).collect::<Vec<_>>()}),
        )
        .await;
    assert_eq!(s, 200);
    let statuses: Vec<u64> = body["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["status"].as_u64().unwrap())
        .collect();
    assert_eq!(statuses, [204, 204, 204, 429, 429]);
    let throttled = &body["responses"][3];
    assert_eq!(throttled["headers"]["Retry-After"], "10");
    assert_eq!(graph_error(&throttled["body"]).0, "TooManyRequests");

    // Reads are not writes.
    assert_eq!(api.get("/subscribedSkus").await.0, 200);
    let r = api
        .http
        .patch(format!("{}/v1.0/users/bob@contoso.com", api.base))
        .bearer_auth(&api.token)
        .json(&json!({"usageLocation": "IT"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 429);
    assert_eq!(r.headers()["retry-after"], "10");
    assert_eq!(emu.stats().quota_throttled, 3);
}

#[tokio::test]
async fn emulator_repeated_assign_license_is_harmless() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |_| {});
    let api = Api::new(&emu).await;
    let alice = "/users/00000000-0000-4000-8000-000000000001/assignLicense";
    assert_eq!(api.post(alice, assign(&[MCOMEETADV], &[])).await.0, 200);
    assert_eq!(api.post(alice, assign(&[MCOMEETADV], &[])).await.0, 200);
    let saved = read_tenant(&tenant);
    assert_eq!(saved.subscribed_skus[0].consumed_units, 2);
    assert_eq!(saved.users[0].assigned_licenses.len(), 3);
    let stats = emu.stats();
    assert_eq!((stats.effective_changes, stats.noop_writes), (1, 1));
    // Removing what is already gone is refused, as on Graph: clients must check first.
    assert_eq!(api.post(alice, assign(&[], &[MCOMEETADV])).await.0, 200);
    assert_eq!(api.post(alice, assign(&[], &[MCOMEETADV])).await.0, 400);
}

#[tokio::test]
async fn emulator_injects_faults_at_the_configured_rates() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let emu = start(&tenant, |c| {
        c.faults.drop_rate = 1.0;
        c.faults.seed = Some(11);
    });
    let http = reqwest::Client::new();
    let token = token(&http, &emu.base_url()).await;
    let mut failures = 0;
    for n in 0..10u32 {
        let location = if n.is_multiple_of(2) { "US" } else { "GB" };
        let sent = http
            .patch(format!("{}/v1.0/users/bob@contoso.com", emu.base_url()))
            .bearer_auth(&token)
            .json(&json!({"usageLocation": location}))
            .send()
            .await;
        match sent {
            Err(_) => failures += 1,
            Ok(r) => failures += usize::from(r.bytes().await.is_err()),
        }
    }
    assert_eq!(failures, 10, "every connection is dropped");
    let stats = emu.stats();
    assert_eq!(stats.dropped_connections, 10);
    // Some were dropped after the change was made: the tenant did change.
    assert!(stats.effective_changes > 0 && stats.effective_changes < 10);
    drop(emu);

    let emu = start(&tenant, |c| {
        c.faults.error_rate = 0.5;
        c.faults.throttle_rate = 0.5;
        c.faults.retry_after_secs = 7;
        c.faults.seed = Some(5);
    });
    let api = Api::new(&emu).await;
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..20 {
        let (status, body) = api.get("/subscribedSkus").await;
        graph_error(&body);
        seen.insert(status);
    }
    assert_eq!(seen.into_iter().collect::<Vec<_>>(), [429, 503, 504]);
}

/// A `commcred emulator` child process, killed when dropped.
pub struct EmulatorProcess {
    pub child: Child,
    pub url: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the binary on port 0 and reads its address from the first stdout line.
pub fn spawn_binary(args: &[&str], env: &[(&str, &str)]) -> EmulatorProcess {
    let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("commcred"));
    cmd.arg("emulator")
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .env_remove("AZURE_CLIENT_SECRET");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let stdout = child.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        let _ = tx.send(line);
    });
    let line = rx
        .recv_timeout(Duration::from_secs(20))
        .expect("the emulator prints its address");
    let url = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("unexpected first line {line:?}"))
        .to_string();
    EmulatorProcess { child, url }
}

#[tokio::test]
async fn emulator_binary_prints_its_address_and_serves() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let process = spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ],
        &[],
    );
    assert!(process.url.starts_with("http://127.0.0.1:"));
    let http = reqwest::Client::new();
    let token = token(&http, &process.url).await;
    let r = http
        .post(format!("{}/v1.0/users/bob@contoso.com", process.url))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = http
        .patch(format!("{}/v1.0/users/bob@contoso.com", process.url))
        .bearer_auth(&token)
        .json(&json!({"usageLocation": "FR"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 204);
    // Acknowledged means on disk, while the emulator still runs.
    assert_eq!(
        read_tenant(&tenant).users[1].usage_location.as_deref(),
        Some("FR")
    );
    let bad = Command::new(assert_cmd::cargo::cargo_bin("commcred"))
        .args([
            "emulator",
            "--tenant",
            tenant.to_str().unwrap(),
            "--listen",
            "0.0.0.0:0",
        ])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("loopback"));
}

#[test]
fn emulator_refuses_a_tenant_file_already_in_use() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let first = start(&tenant, |_| {});
    let second = emulator::serve(EmulatorConfig::new(&tenant));
    let message = second.err().expect("the file is locked").to_string();
    assert!(message.contains("in use"), "{message}");
    first.shutdown().unwrap();
    // Released on shutdown.
    start(&tenant, |_| {}).shutdown().unwrap();
}

/// `--persist deferred` (for benchmarks): a change is acknowledged before it is on disk, and
/// SIGTERM writes it before the emulator exits; nothing is lost.
#[tokio::test]
async fn emulator_binary_defers_persistence_until_shutdown_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    let tenant = write_tenant(dir.path(), &rules_tenant());
    let mut process = spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--persist",
            "deferred",
            "--persist-every",
            "600",
        ],
        &[],
    );
    let http = reqwest::Client::new();
    let token = token(&http, &process.url).await;
    let patch = |user: &'static str, location: &'static str| {
        let (http, url, token) = (http.clone(), process.url.clone(), token.clone());
        async move {
            let r = http
                .patch(format!("{url}/v1.0/users/{user}@contoso.com"))
                .bearer_auth(&token)
                .json(&json!({"usageLocation": location}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 204);
        }
    };
    // The first change is written at once (nothing was pending)...
    patch("bob", "FR").await;
    let waited = std::time::Instant::now();
    while read_tenant(&tenant).users[1].usage_location.as_deref() != Some("FR") {
        assert!(waited.elapsed() < Duration::from_secs(10), "never written");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // ...the next waits out the interval: acknowledged, served, and not yet on disk.
    patch("dave", "DE").await;
    let r = http
        .get(format!(
            "{}/v1.0/users/dave@contoso.com?$select=usageLocation",
            process.url
        ))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(r.json::<Value>().await.unwrap()["usageLocation"], "DE");
    assert_eq!(
        read_tenant(&tenant).users[2].usage_location.as_deref(),
        Some("GB")
    );
    let stopped = Command::new("kill")
        .args(["-TERM", &process.child.id().to_string()])
        .status()
        .unwrap();
    assert!(stopped.success());
    let status = process.child.wait().unwrap();
    assert!(status.success(), "{status:?}");
    let after = read_tenant(&tenant);
    assert_eq!(after.users[1].usage_location.as_deref(), Some("FR"));
    assert_eq!(after.users[2].usage_location.as_deref(), Some("DE"));

    let bad = Command::new(assert_cmd::cargo::cargo_bin("commcred"))
        .args([
            "emulator",
            "--tenant",
            tenant.to_str().unwrap(),
            "--persist",
            "deferred",
            "--persist-every",
            "0",
        ])
        .output()
        .unwrap();
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&bad.stderr).contains("--persist-every must be a positive"),
        "{}",
        String::from_utf8_lossy(&bad.stderr)
    );
}
