//! The emulator's Teams endpoints on the wire, against the shapes of Microsoft's pages
//! ("List numberAssignments", "numberAssignment: assignNumber / unassignNumber /
//! updateNumber", "Get telephoneNumberLongRunningOperation", "List userConfigurations").

use std::time::Duration;

use serde_json::{Value, json};

use crate::emulator::{Api, graph_error, start, write_tenant};
use crate::numbers::{number_tenant, user_id};

const ROOT: &str = "/admin/teams/telephoneNumberManagement";

/// Sends a POST and returns the status and the `Location` header.
async fn post_for_location(api: &Api, path: &str, body: Value) -> (u16, Option<String>) {
    let r = api
        .http
        .post(format!("{}/v1.0{path}", api.base))
        .bearer_auth(&api.token)
        .json(&body)
        .send()
        .await
        .unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_string());
    (r.status().as_u16(), location)
}

/// Polls an operation's `Location` to its end; returns the statuses seen and the last body.
async fn poll(api: &Api, location: &str) -> (Vec<String>, Value) {
    let path = location.split("/v1.0").nth(1).unwrap().to_string();
    let mut seen = Vec::new();
    for _ in 0..20 {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200, "{body}");
        let op = &body["value"];
        let s = op["status"].as_str().unwrap().to_string();
        seen.push(s.clone());
        if s == "succeeded" || s == "failed" {
            return (seen, body);
        }
    }
    panic!("the operation never ended: {seen:?}");
}

#[tokio::test]
async fn number_assignments_page_with_top_and_skip_and_filter() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &number_tenant(1_200));
    let emulator = start(&path, |_| {});
    let api = Api::new(&emulator).await;

    let (status, body) = api.get(&format!("{ROOT}/numberAssignments")).await;
    assert_eq!(status, 200);
    assert_eq!(
        body["value"].as_array().unwrap().len(),
        500,
        "default page of 500"
    );
    let first = &body["value"][0];
    assert_eq!(
        first["@odata.type"],
        "#microsoft.graph.teamsAdministration.numberAssignment"
    );
    for field in [
        "id",
        "telephoneNumber",
        "numberType",
        "activationState",
        "assignmentStatus",
        "assignmentTargetId",
        "assignmentCategory",
        "isoCountryCode",
        "capabilities",
        "locationId",
    ] {
        assert!(first.get(field).is_some(), "missing {field} in {first}");
    }
    let (status, body) = api
        .get(&format!("{ROOT}/numberAssignments?$top=1000&$skip=1000"))
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        body["value"].as_array().unwrap().len(),
        204,
        "1,204 numbers in all"
    );
    assert!(body.get("@odata.nextLink").is_none());
    let (status, body) = api
        .get(&format!("{ROOT}/numberAssignments?$top=1001"))
        .await;
    assert_eq!(status, 400, "at most 1,000 a page: {body}");
    graph_error(&body);

    let (_, body) = api
        .get(&format!(
            "{ROOT}/numberAssignments?$filter=numberType eq 'directRouting'"
        ))
        .await;
    let values = body["value"].as_array().unwrap();
    assert_eq!(values.len(), 1);
    assert_eq!(values[0]["telephoneNumber"], "+12065550100");
    let (_, body) = api
        .get(&format!(
            "{ROOT}/numberAssignments?$filter=telephoneNumber eq '%2B14255550007'"
        ))
        .await;
    assert_eq!(body["value"][0]["id"], "cp7");
    let (status, _) = api
        .get(&format!(
            "{ROOT}/numberAssignments?$filter=city eq 'Clanton'"
        ))
        .await;
    assert_eq!(status, 400, "all fields can be filtered except id and city");
}

#[tokio::test]
async fn assign_answers_202_with_a_location_polled_to_its_end() {
    let dir = tempfile::tempdir().unwrap();
    let mut tenant = number_tenant(2);
    tenant.users[0].assigned_licenses = serde_json::from_value(json!([
        {"skuId": crate::emulator::MCOEV, "disabledPlans": []},
        {"skuId": crate::emulator::MCOPSTN1, "disabledPlans": []}
    ]))
    .unwrap();
    let path = write_tenant(dir.path(), &tenant);
    let emulator = start(&path, |_| {});
    let api = Api::new(&emulator).await;

    let (status, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        json!({"telephoneNumber": "+14255550000", "assignmentTargetId": user_id(0),
               "numberType": "callingPlan", "assignmentCategory": "primary"}),
    )
    .await;
    assert_eq!(status, 202);
    let location = location.expect("a Location header");
    assert!(
        location.contains("/v1.0/admin/teams/telephoneNumberManagement/operations('"),
        "{location}"
    );
    let (seen, body) = poll(&api, &location).await;
    assert_eq!(seen, ["running", "succeeded"]);
    let op = &body["value"];
    assert_eq!(
        op["@odata.type"],
        "#microsoft.graph.teamsAdministration.telephoneNumberLongRunningOperation"
    );
    assert!(op["createdDateTime"].is_string());
    assert_eq!(op["numbers"][0]["status"], "succeeded");
    assert!(
        op["numbers"][0]["resourceLocation"]
            .as_str()
            .unwrap()
            .contains("/numberAssignments/cp0")
    );
    let (_, body) = api
        .get(&format!(
            "{ROOT}/numberAssignments?$filter=telephoneNumber eq '%2B14255550000'"
        ))
        .await;
    assert_eq!(body["value"][0]["assignmentTargetId"], user_id(0));
    assert_eq!(body["value"][0]["assignmentStatus"], "userAssigned");

    // Already assigned: the order fails, with the text Teams uses.
    let (_, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        json!({"telephoneNumber": "+14255550000", "assignmentTargetId": user_id(1), "numberType": "callingPlan"}),
    )
    .await;
    let (seen, body) = poll(&api, &location.unwrap()).await;
    assert_eq!(seen.last().unwrap(), "failed");
    assert_eq!(
        body["value"]["numbers"][0]["statusDetail"],
        "Telephone Number '+14255550000' has already been assigned to another user"
    );
    // Not in the inventory.
    let (_, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        json!({"telephoneNumber": "+19995550000", "assignmentTargetId": user_id(0), "numberType": "callingPlan"}),
    )
    .await;
    let (_, body) = poll(&api, &location.unwrap()).await;
    assert!(
        body["value"]["numbers"][0]["statusDetail"]
            .as_str()
            .unwrap()
            .contains("is not found from tenant")
    );
    // A user without a calling plan.
    let (_, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        json!({"telephoneNumber": "+14255550001", "assignmentTargetId": user_id(1), "numberType": "callingPlan"}),
    )
    .await;
    let (_, body) = poll(&api, &location.unwrap()).await;
    assert_eq!(
        body["value"]["numbers"][0]["statusDetail"],
        format!(
            "User '{}' lacks appropriate licenses to assign a 'CallingPlan' number",
            user_id(1)
        )
    );
    // A missing mandatory parameter is refused at once.
    let (status, body) = api
        .post(
            &format!("{ROOT}/numberAssignments/assignNumber"),
            json!({"telephoneNumber": "+14255550001"}),
        )
        .await;
    assert_eq!(status, 400);
    graph_error(&body);

    // unassignNumber: 202, then the number is free and leaves the user's configuration.
    let (status, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/unassignNumber"),
        json!({"telephoneNumber": "+14255550000", "numberType": "callingPlan"}),
    )
    .await;
    assert_eq!(status, 202);
    let (seen, _) = poll(&api, &location.unwrap()).await;
    assert_eq!(seen, ["running", "succeeded"]);
    let (_, body) = api.get("/admin/teams/userConfigurations").await;
    let config = body["value"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["id"] == user_id(0))
        .unwrap();
    assert_eq!(config["telephoneNumbers"], json!([]));

    // updateNumber: 200 OK, locationId set then cleared with "".
    let (status, _) = api
        .post(
            &format!("{ROOT}/numberAssignments/updateNumber"),
            json!({"telephoneNumber": "+14255550001", "locationId": "93cb8a70-b4af-41df-9928-d07607e21776"}),
        )
        .await;
    assert_eq!(status, 200);
    let (_, body) = api
        .get(&format!(
            "{ROOT}/numberAssignments?$filter=telephoneNumber eq '%2B14255550001'"
        ))
        .await;
    assert_eq!(
        body["value"][0]["locationId"],
        "93cb8a70-b4af-41df-9928-d07607e21776"
    );
}

#[tokio::test]
async fn a_user_not_provisioned_yet_fails_until_the_delay_has_passed() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &number_tenant(1));
    let emulator = start(&path, |c| c.provisioning_delay = Duration::from_millis(400));
    let api = Api::new(&emulator).await;
    let licenses = json!({"addLicenses": [
        {"skuId": crate::emulator::MCOEV, "disabledPlans": []},
        {"skuId": crate::emulator::MCOPSTN1, "disabledPlans": []}], "removeLicenses": []});
    let (status, body) = api
        .post(&format!("/users/{}/assignLicense", user_id(0)), licenses)
        .await;
    assert_eq!(status, 200, "{body}");
    let order = json!({"telephoneNumber": "+14255550000", "assignmentTargetId": user_id(0), "numberType": "callingPlan"});
    let (_, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        order.clone(),
    )
    .await;
    let (_, body) = poll(&api, &location.unwrap()).await;
    assert!(
        body["value"]["numbers"][0]["statusDetail"]
            .as_str()
            .unwrap()
            .contains("is not provisioned in Microsoft Teams yet"),
        "{body}"
    );
    tokio::time::sleep(Duration::from_millis(450)).await;
    let (_, location) = post_for_location(
        &api,
        &format!("{ROOT}/numberAssignments/assignNumber"),
        order,
    )
    .await;
    let (seen, _) = poll(&api, &location.unwrap()).await;
    assert_eq!(seen.last().unwrap(), "succeeded");
}

#[tokio::test]
async fn teams_endpoints_check_their_permissions() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &number_tenant(1));
    let emulator = start(&path, |c| {
        c.roles = Some(vec!["TeamsTelephoneNumber.Read.All".into()]);
    });
    let api = Api::new(&emulator).await;
    let (status, _) = api.get(&format!("{ROOT}/numberAssignments")).await;
    assert_eq!(status, 200);
    let (status, body) = api
        .post(
            &format!("{ROOT}/numberAssignments/unassignNumber"),
            json!({"telephoneNumber": "+14255550000", "numberType": "callingPlan"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(graph_error(&body).0, "Authorization_RequestDenied");
    let (status, _) = api.get("/admin/teams/userConfigurations").await;
    assert_eq!(
        status, 403,
        "userConfigurations needs TeamsUserConfiguration.Read.All"
    );
}

#[tokio::test]
async fn user_configurations_are_paged_with_next_links() {
    let dir = tempfile::tempdir().unwrap();
    let path = write_tenant(dir.path(), &number_tenant(250));
    let emulator = start(&path, |_| {});
    let api = Api::new(&emulator).await;
    let mut path = "/admin/teams/userConfigurations".to_string();
    let mut seen = 0;
    loop {
        let (status, body) = api.get(&path).await;
        assert_eq!(status, 200, "{body}");
        let page = body["value"].as_array().unwrap();
        assert_eq!(
            page[0]["@odata.type"],
            "#microsoft.graph.teamsAdministration.teamsUserConfiguration"
        );
        for field in [
            "id",
            "userPrincipalName",
            "accountType",
            "isEnterpriseVoiceEnabled",
            "featureTypes",
            "telephoneNumbers",
        ] {
            assert!(page[0].get(field).is_some(), "missing {field}");
        }
        seen += page.len();
        match body["@odata.nextLink"].as_str() {
            Some(next) => path = next.split("/v1.0").nth(1).unwrap().to_string(),
            None => break,
        }
    }
    assert_eq!(seen, 251);
}
