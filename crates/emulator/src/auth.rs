//! Entra ID's client-credentials flow (`POST /{tenant}/oauth2/v2.0/token`) and Graph's bearer
//! check. Tokens are shaped like Entra ID's access tokens — a JWT whose payload carries
//! `aud`, `tid`, `appid`, `exp` and the application permissions granted in `roles` — with a
//! random signature: the emulator recognises its own tokens by remembering them (with their
//! expiry and roles), not by verifying a signature. The OAuth errors use Entra ID's own body
//! (`error`, `error_description` with the AADSTS code), which differs from Graph's, as on the
//! real services.
//!
//! The client secret, or a `client_assertion` (a certificate's signed JWT or a federated
//! token: `auth_assertion.rs`), is checked and forgotten: never logged, stored or echoed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;

use super::auth_assertion::{self, RegisteredCertificate};
use super::error::{GraphResponse, RequestIds, new_guid};

/// The application the emulator accepts; `None` in the config accepts any non-empty pair.
#[derive(Clone)]
pub struct ExpectedClient {
    pub client_id: String,
    pub client_secret: String,
}

impl std::fmt::Debug for ExpectedClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExpectedClient")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .finish()
    }
}

struct Issued {
    expiry: Instant,
    roles: Arc<Vec<String>>,
}

pub struct Tokens {
    lifetime: Duration,
    /// The application permissions every issued token carries.
    roles: Arc<Vec<String>>,
    issued: Mutex<HashMap<String, Issued>>,
}

pub enum TokenCheck {
    /// A token the emulator issued and that has not expired, with its `roles`.
    Valid(Arc<Vec<String>>),
    Missing,
    Expired,
    Invalid,
}

impl Tokens {
    pub fn new(lifetime: Duration, roles: Vec<String>) -> Tokens {
        Tokens {
            lifetime,
            roles: Arc::new(roles),
            issued: Mutex::new(HashMap::new()),
        }
    }

    /// A JWT-shaped access token for `client_id` in `tenant_id`, remembered until it expires.
    fn issue(&self, client_id: &str, tenant_id: &str) -> String {
        let now = chrono::Utc::now().timestamp();
        let lifetime = self.lifetime.as_secs() as i64;
        let header = json!({"typ": "JWT", "alg": "RS256", "kid": "commcred-emulator"});
        let payload = json!({
            "aud": "https://graph.microsoft.com",
            "iss": format!("https://sts.windows.net/{tenant_id}/"),
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "appid": client_id,
            "idtyp": "app",
            "tid": tenant_id,
            "roles": *self.roles,
            "ver": "1.0",
        });
        let signature: [u8; 32] = rand::random();
        let token = format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(payload.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        );
        let at = Instant::now();
        let mut issued = self.issued.lock().expect("token lock");
        issued.retain(|_, t| t.expiry > at);
        issued.insert(
            token.clone(),
            Issued {
                expiry: at + self.lifetime,
                roles: self.roles.clone(),
            },
        );
        token
    }

    pub fn check(&self, headers: &HeaderMap) -> TokenCheck {
        let Some(value) = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return TokenCheck::Missing;
        };
        let token = match value.split_once(' ') {
            Some((scheme, t)) if scheme.eq_ignore_ascii_case("bearer") => t.trim(),
            _ => return TokenCheck::Invalid,
        };
        if token.is_empty() {
            return TokenCheck::Missing;
        }
        match self.issued.lock().expect("token lock").get(token) {
            Some(t) if t.expiry > Instant::now() => TokenCheck::Valid(t.roles.clone()),
            Some(_) => TokenCheck::Expired,
            None => TokenCheck::Invalid,
        }
    }
}

/// Graph's 401 for a missing, expired or unknown bearer token.
pub fn unauthorized(check: &TokenCheck, ids: &RequestIds) -> GraphResponse {
    let message = match check {
        TokenCheck::Missing => "Access token is empty.",
        TokenCheck::Expired => "Lifetime validation failed, the token is expired.",
        _ => "Access token validation failure. Invalid audience.",
    };
    GraphResponse::error(
        StatusCode::UNAUTHORIZED,
        "InvalidAuthenticationToken",
        message,
        ids,
    )
    .with_header(
        "WWW-Authenticate",
        "Bearer realm=\"\", authorization_uri=\"https://login.microsoftonline.com/common/oauth2/authorize\", client_id=\"00000003-0000-0000-c000-000000000000\"",
    )
}

/// Entra ID's error body.
pub(super) fn oauth_error(
    status: StatusCode,
    error: &str,
    aadsts: u32,
    description: &str,
) -> Response {
    let trace = new_guid();
    let body = json!({
        "error": error,
        "error_description": format!("AADSTS{aadsts}: {description} Trace ID: {trace}"),
        "error_codes": [aadsts],
        "timestamp": chrono::Utc::now().format("%Y-%m-%d %H:%M:%SZ").to_string(),
        "trace_id": trace,
        "correlation_id": new_guid(),
    });
    (status, axum::Json(body)).into_response()
}

/// `POST /{tenant}/oauth2/v2.0/token` with a form body.
/// The application the token endpoint signs in: who may sign in and with what.
pub struct Clients<'a> {
    /// The one application id (and secret) accepted; `None`: any.
    pub expected: Option<&'a ExpectedClient>,
    /// Certificates registered for it (`--client-certificate`).
    pub certificates: &'a [RegisteredCertificate],
    /// `http://127.0.0.1:PORT`: the token endpoint a certificate assertion's `aud` names.
    pub base_url: &'a str,
}

// Long: the token endpoint's checks in order, each answering with its own Entra ID error.
pub fn token_endpoint(
    tenant_in_path: &str,
    form: &HashMap<String, String>,
    tenant_id: &str,
    tenant_domains: &[String],
    clients: &Clients<'_>,
    tokens: &Tokens,
) -> Response {
    let expected = clients.expected;
    let known_tenant = tenant_in_path.eq_ignore_ascii_case(tenant_id)
        || tenant_domains
            .iter()
            .any(|d| d.eq_ignore_ascii_case(tenant_in_path));
    if !known_tenant {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            90002,
            &format!(
                "Tenant '{tenant_in_path}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."
            ),
        );
    }
    let field = |name: &str| form.get(name).map(String::as_str).filter(|v| !v.is_empty());
    match field("grant_type") {
        Some("client_credentials") => {}
        Some(other) => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{other}'."),
            );
        }
        None => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'grant_type'.",
            );
        }
    }
    let Some(client_id) = field("client_id") else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            "The request body must contain the following parameter: 'client_id'.",
        );
    };
    let secret = field("client_secret");
    let assertion = field("client_assertion");
    if secret.is_none() && assertion.is_none() {
        return oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            7000218,
            "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        );
    }
    match field("scope") {
        Some(scope) if scope.ends_with("/.default") => {}
        _ => {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_scope",
                1002012,
                "The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
            );
        }
    }
    if let Some(expected) = expected {
        if client_id != expected.client_id {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                &format!(
                    "Application with identifier '{client_id}' was not found in the directory '{tenant_in_path}'."
                ),
            );
        }
        if secret.is_some_and(|s| s != expected.client_secret) {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
            );
        }
    }
    if let Some(assertion) = assertion.filter(|_| secret.is_none()) {
        let token_url = format!(
            "{}/{tenant_in_path}/oauth2/v2.0/token",
            clients.base_url.trim_end_matches('/')
        );
        if let Err(refused) = auth_assertion::check(
            field("client_assertion_type"),
            assertion,
            client_id,
            &token_url,
            clients.certificates,
            chrono::Utc::now().timestamp(),
        ) {
            return *refused;
        }
    }
    let lifetime = tokens.lifetime.as_secs();
    let body = json!({
        "token_type": "Bearer",
        "expires_in": lifetime,
        "ext_expires_in": lifetime,
        "access_token": tokens.issue(client_id, tenant_id),
    });
    (StatusCode::OK, axum::Json(body)).into_response()
}
