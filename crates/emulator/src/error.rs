//! Graph's response shapes: the `{"error":{"code","message","innerError"}}` body that every
//! Graph failure carries, and a transport-neutral response that both top-level requests
//! and `$batch` items are built from (so a request behaves the same either way).

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

/// Per-request identifiers, echoed the way Graph echoes them (`request-id`,
/// `client-request-id` headers and `innerError`), so client logs can be correlated.
#[derive(Debug, Clone)]
pub struct RequestIds {
    pub request_id: String,
    pub client_request_id: String,
}

impl RequestIds {
    pub fn new(client_request_id: Option<&str>) -> RequestIds {
        let request_id = new_guid();
        let client_request_id = client_request_id
            .filter(|c| !c.is_empty() && c.len() <= 100)
            .map_or_else(|| request_id.clone(), str::to_string);
        RequestIds {
            request_id,
            client_request_id,
        }
    }
}

/// A random version-4 GUID in Graph's lower-case hyphenated form.
pub fn new_guid() -> String {
    let mut b: [u8; 16] = rand::random();
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[0..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..32]
    )
}

/// A Graph answer before it is put on the wire or into a `$batch` response item.
#[derive(Debug, Clone)]
pub struct GraphResponse {
    pub status: StatusCode,
    pub headers: Vec<(&'static str, String)>,
    pub body: Option<Value>,
}

impl GraphResponse {
    pub fn json(status: StatusCode, body: Value) -> GraphResponse {
        GraphResponse {
            status,
            headers: Vec::new(),
            body: Some(body),
        }
    }

    pub fn no_content() -> GraphResponse {
        GraphResponse {
            status: StatusCode::NO_CONTENT,
            headers: Vec::new(),
            body: None,
        }
    }

    /// Graph's error body, exactly `{"error":{"code","message","innerError":{...}}}`.
    pub fn error(
        status: StatusCode,
        code: &str,
        message: impl Into<String>,
        ids: &RequestIds,
    ) -> GraphResponse {
        let body = json!({
            "error": {
                "code": code,
                "message": message.into(),
                "innerError": {
                    "date": chrono::Utc::now().format("%Y-%m-%dT%H:%M:%S").to_string(),
                    "request-id": ids.request_id,
                    "client-request-id": ids.client_request_id,
                }
            }
        });
        GraphResponse::json(status, body)
    }

    pub fn bad_request(code: &str, message: impl Into<String>, ids: &RequestIds) -> GraphResponse {
        GraphResponse::error(StatusCode::BAD_REQUEST, code, message, ids)
    }

    pub fn with_header(mut self, name: &'static str, value: impl Into<String>) -> GraphResponse {
        self.headers.push((name, value.into()));
        self
    }

    /// The response as a `$batch` item: `{"id","status","headers","body"}`.
    pub fn to_batch_item(&self, id: &str) -> Value {
        let mut headers = serde_json::Map::new();
        if self.body.is_some() {
            headers.insert(
                "Content-Type".into(),
                Value::String("application/json".into()),
            );
        }
        for (name, value) in &self.headers {
            headers.insert((*name).to_string(), Value::String(value.clone()));
        }
        let mut item = json!({ "id": id, "status": self.status.as_u16(), "headers": headers });
        if let Some(body) = &self.body {
            item["body"] = body.clone();
        }
        item
    }

    pub fn into_http(self, ids: &RequestIds) -> Response {
        let mut response = match self.body {
            Some(body) => (self.status, axum::Json(body)).into_response(),
            None => self.status.into_response(),
        };
        let headers = response.headers_mut();
        let mut put = |name: &str, value: &str| {
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(value),
            ) {
                headers.insert(n, v);
            }
        };
        put("request-id", &ids.request_id);
        put("client-request-id", &ids.client_request_id);
        for (name, value) in &self.headers {
            put(name, value);
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_body_has_graph_shape() {
        let ids = RequestIds::new(Some("abc"));
        let r = GraphResponse::bad_request("Request_BadRequest", "nope", &ids);
        let body = r.body.unwrap();
        let err = body["error"].as_object().unwrap();
        assert_eq!(
            err.keys().collect::<Vec<_>>(),
            ["code", "message", "innerError"]
        );
        assert_eq!(err["innerError"]["client-request-id"], "abc");
        assert_eq!(body.as_object().unwrap().len(), 1);
    }

    #[test]
    fn guids_are_version_4() {
        let g = new_guid();
        assert_eq!(g.len(), 36);
        assert_eq!(&g[14..15], "4");
    }
}
