//! Client credentials (the Azure SDK's environment variables) and the OAuth2
//! client-credentials flow against Entra ID (or the emulator), with the token cached until
//! shortly before it expires.
//!
//! Three ways to prove the application's identity, chosen from the environment in the Azure
//! SDK's order (`EnvironmentCredential`: a secret, then a certificate; then
//! `WorkloadIdentityCredential`: a federated token file): `client_secret`, a
//! `client_assertion` signed with a certificate (`auth_cert.rs`), or a federated token sent
//! as `client_assertion` (`auth_federated.rs`).
//!
//! Secrets and assertions live in [`Secret`], whose `Debug` is redacted and which has no
//! `Display`: they can only leave the process in the token request's form body.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::backend::BackendError;

use super::auth_cert::ClientCertificate;
use super::auth_federated::FederatedTokenFile;
use super::client::{RetryPolicy, parse_retry_after};

pub const ENV_TENANT: &str = "AZURE_TENANT_ID";
pub const ENV_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const ENV_CLIENT_CERTIFICATE_PATH: &str = "AZURE_CLIENT_CERTIFICATE_PATH";
pub const ENV_CLIENT_CERTIFICATE_PASSWORD: &str = "AZURE_CLIENT_CERTIFICATE_PASSWORD";
pub const ENV_FEDERATED_TOKEN_FILE: &str = "AZURE_FEDERATED_TOKEN_FILE";
pub const ENV_AUTHORITY: &str = "AZURE_AUTHORITY_HOST";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Graph's resource scope for app-only tokens.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
/// `client_assertion_type` for a signed or federated JWT (RFC 7523), as Microsoft's
/// certificate credentials page gives it.
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// A secret that never prints.
#[derive(Clone)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub(crate) fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("[redacted]")
    }
}

/// How the application proves who it is.
#[derive(Clone, Debug)]
pub enum ClientCredential {
    Secret(Secret),
    /// A certificate whose key signs each assertion.
    Certificate(Arc<ClientCertificate>),
    /// A token another identity provider issued, read from its file for each request.
    FederatedToken(FederatedTokenFile),
}

impl ClientCredential {
    /// "client secret", "certificate …", "federated token file …", for messages.
    pub fn describe(&self) -> String {
        match self {
            ClientCredential::Secret(_) => "a client secret".into(),
            ClientCredential::Certificate(c) => {
                format!("the certificate with SHA-256 thumbprint {}", c.thumbprint())
            }
            ClientCredential::FederatedToken(f) => {
                format!("the federated token in {}", f.path().display())
            }
        }
    }
}

/// An application's identity in a tenant.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Tenant id (GUID) or a verified domain.
    pub tenant: String,
    pub client_id: String,
    pub credential: ClientCredential,
}

/// The names of the environment variables credentials are read from: the Azure SDK's by
/// default; a workspace names its own per tenant (never the values).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CredentialEnv {
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub certificate_path: Option<String>,
    pub certificate_password: Option<String>,
    pub federated_token_file: Option<String>,
}

impl Default for CredentialEnv {
    fn default() -> CredentialEnv {
        CredentialEnv {
            tenant: ENV_TENANT.into(),
            client_id: ENV_CLIENT_ID.into(),
            client_secret: Some(ENV_CLIENT_SECRET.into()),
            certificate_path: Some(ENV_CLIENT_CERTIFICATE_PATH.into()),
            certificate_password: Some(ENV_CLIENT_CERTIFICATE_PASSWORD.into()),
            federated_token_file: Some(ENV_FEDERATED_TOKEN_FILE.into()),
        }
    }
}

impl Credentials {
    /// A client secret's credentials (what tests and the emulator trials use).
    pub fn with_secret(
        tenant: impl Into<String>,
        client_id: impl Into<String>,
        secret: Secret,
    ) -> Credentials {
        Credentials {
            tenant: tenant.into(),
            client_id: client_id.into(),
            credential: ClientCredential::Secret(secret),
        }
    }

    /// Reads the Azure SDK's variables, naming every one that is missing.
    pub fn from_env() -> Result<Credentials, BackendError> {
        Credentials::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Credentials, BackendError> {
        Credentials::from_names(&CredentialEnv::default(), get)
    }

    /// Reads the variables `names` gives. The credential is the first one set, in the
    /// Azure SDK's order: secret, certificate, federated token file.
    pub fn from_names(
        names: &CredentialEnv,
        get: impl Fn(&str) -> Option<String>,
    ) -> Result<Credentials, BackendError> {
        let value = |name: &Option<String>| {
            name.as_deref()
                .and_then(&get)
                .filter(|v| !v.trim().is_empty())
        };
        let tenant = value(&Some(names.tenant.clone()));
        let client_id = value(&Some(names.client_id.clone()));
        let credential = if let Some(secret) = value(&names.client_secret) {
            Some(ClientCredential::Secret(Secret(secret)))
        } else if let Some(path) = value(&names.certificate_path) {
            let password = value(&names.certificate_password).map(Secret);
            let cert = ClientCertificate::load(&PathBuf::from(path.trim()), password.as_ref())
                .map_err(BackendError::Credential)?;
            Some(ClientCredential::Certificate(Arc::new(cert)))
        } else {
            value(&names.federated_token_file)
                .map(|p| ClientCredential::FederatedToken(FederatedTokenFile::new(p.trim())))
        };
        match (tenant, client_id, credential) {
            (Some(tenant), Some(client_id), Some(credential)) => Ok(Credentials {
                tenant: tenant.trim().to_string(),
                client_id: client_id.trim().to_string(),
                credential,
            }),
            (tenant, client_id, credential) => {
                let mut missing: Vec<String> = Vec::new();
                if tenant.is_none() {
                    missing.push(names.tenant.clone());
                }
                if client_id.is_none() {
                    missing.push(names.client_id.clone());
                }
                if credential.is_none() {
                    let ways: Vec<&str> = [
                        &names.client_secret,
                        &names.certificate_path,
                        &names.federated_token_file,
                    ]
                    .into_iter()
                    .flatten()
                    .map(String::as_str)
                    .collect();
                    missing.push(format!("one of {}", ways.join(", ")));
                }
                Err(BackendError::Settings(format!(
                    "the graph backend needs an app registration's client credentials: set {} \
                     (the Azure SDK's variables; docs/graph.md shows each way to sign in). \
                     Permissions: {}",
                    missing.join(" and "),
                    super::permissions::hint()
                )))
            }
        }
    }
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    expires_in: Option<u64>,
}

#[derive(Deserialize, Default)]
struct OAuthError {
    #[serde(default)]
    error: String,
    #[serde(default)]
    error_description: String,
}

struct CachedToken {
    value: String,
    refresh_at: Instant,
}

pub(crate) struct TokenSource {
    http: reqwest::Client,
    token_url: String,
    credentials: Credentials,
    retry: RetryPolicy,
    cached: Mutex<Option<CachedToken>>,
    pub(crate) requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl TokenSource {
    pub(crate) fn new(
        http: reqwest::Client,
        authority: &str,
        credentials: Credentials,
        retry: RetryPolicy,
        requests: std::sync::Arc<std::sync::atomic::AtomicU64>,
    ) -> TokenSource {
        let token_url = format!(
            "{}/{}/oauth2/v2.0/token",
            authority.trim_end_matches('/'),
            credentials.tenant
        );
        TokenSource {
            http,
            token_url,
            credentials,
            retry,
            cached: Mutex::new(None),
            requests,
        }
    }

    /// A valid access token, fetched when none is cached or it is about to expire.
    pub(crate) async fn token(&self) -> Result<String, String> {
        let mut cached = self.cached.lock().await;
        if let Some(t) = cached.as_ref()
            && Instant::now() < t.refresh_at
        {
            return Ok(t.value.clone());
        }
        let fresh = self.fetch().await?;
        let value = fresh.value.clone();
        *cached = Some(fresh);
        Ok(value)
    }

    /// Forgets the cached token after Graph said it is no longer valid.
    pub(crate) async fn invalidate(&self) {
        *self.cached.lock().await = None;
    }

    /// The secret, or a fresh assertion (signed now, or read from the token file now).
    fn proof(&self) -> Result<Secret, String> {
        match &self.credentials.credential {
            ClientCredential::Secret(s) => Ok(s.clone()),
            ClientCredential::Certificate(c) => {
                c.assertion(&self.credentials.client_id, &self.token_url)
            }
            ClientCredential::FederatedToken(f) => f.read(chrono::Utc::now().timestamp()),
        }
    }

    async fn fetch(&self) -> Result<CachedToken, String> {
        let proof = self.proof()?;
        let mut form = vec![
            ("grant_type", "client_credentials"),
            ("client_id", self.credentials.client_id.as_str()),
            ("scope", GRAPH_SCOPE),
        ];
        match &self.credentials.credential {
            ClientCredential::Secret(_) => form.push(("client_secret", proof.expose())),
            _ => {
                form.push(("client_assertion_type", JWT_BEARER));
                form.push(("client_assertion", proof.expose()));
            }
        }
        let mut delays = self.retry.delays();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.requests
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let sent = self.http.post(&self.token_url).form(&form).send().await;
            let (retryable, reason, wait) = match sent {
                Err(e) => (true, e.without_url().to_string(), None),
                Ok(response) => {
                    let status = response.status();
                    let retry_after = parse_retry_after(response.headers());
                    let text = response.text().await.unwrap_or_default();
                    if status.is_success() {
                        let t: TokenResponse = serde_json::from_str(&text).map_err(|e| {
                            format!("the token endpoint sent an unreadable answer: {e}")
                        })?;
                        let lifetime = Duration::from_secs(t.expires_in.unwrap_or(3599));
                        // Refresh early so a long apply never sends an expired token.
                        let margin = (lifetime / 2).min(Duration::from_secs(300));
                        return Ok(CachedToken {
                            value: t.access_token,
                            refresh_at: Instant::now() + lifetime - margin,
                        });
                    }
                    let e: OAuthError = serde_json::from_str(&text).unwrap_or_default();
                    let reason = format!(
                        "the token endpoint {} refused application {} signing in with {} ({} {}): {}{}",
                        self.token_url,
                        self.credentials.client_id,
                        self.credentials.credential.describe(),
                        status.as_u16(),
                        e.error,
                        e.error_description,
                        what_to_do(&e.error_description)
                    );
                    let retryable = status.is_server_error() || status.as_u16() == 429;
                    (retryable, reason, retry_after)
                }
            };
            match delays.next() {
                Some(backoff) if retryable && attempt < self.retry.max_attempts => {
                    tokio::time::sleep(wait.unwrap_or(backoff)).await;
                }
                _ => return Err(reason),
            }
        }
    }
}

/// What to do about the Entra ID refusals a pipeline meets most, by AADSTS code (Microsoft
/// Learn, "Troubleshoot Azure SDK authentication ... service principal" and the AADSTS
/// error code reference).
fn what_to_do(description: &str) -> &'static str {
    let code = |c: &str| description.contains(&format!("AADSTS{c}:"));
    if code("7000215") {
        " - use the secret's value, not its id"
    } else if code("700027") {
        " - upload this certificate to the app registration (Certificates & secrets), or point at the certificate that is there"
    } else if code("700024") {
        " - the assertion expired: fetch a fresh federated token just before running commcred"
    } else if code("700212") || code("700211") || code("700213") {
        " - the app registration has no federated credential for this token's issuer, subject and audience (api://AzureADTokenExchange); add one (docs/graph.md)"
    } else if code("700016") || code("90002") {
        " - check the tenant id and the client id"
    } else {
        ""
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_debug_print() {
        let c = Credentials::with_secret("t", "c", Secret::new("hunter2"));
        let shown = format!("{c:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("[redacted]"));
    }

    #[test]
    fn missing_variables_are_all_named() {
        let err = Credentials::from_lookup(|n| (n == ENV_CLIENT_ID).then(|| "id".to_string()))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(ENV_TENANT)
                && err.contains(ENV_CLIENT_SECRET)
                && err.contains(ENV_CLIENT_CERTIFICATE_PATH)
                && err.contains(ENV_FEDERATED_TOKEN_FILE),
            "{err}"
        );
        assert!(!err.contains(ENV_CLIENT_ID), "{err}");
    }
}
