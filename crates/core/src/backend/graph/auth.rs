//! Client credentials (the Azure SDK's environment variables) and the OAuth2
//! client-credentials flow against Entra ID (or the emulator), with the token cached until
//! shortly before it expires.
//!
//! The secret lives in [`Secret`], whose `Debug` is redacted and which has no `Display`:
//! it can only leave the process in the token request's form body.

use std::time::{Duration, Instant};

use serde::Deserialize;
use tokio::sync::Mutex;

use crate::backend::BackendError;

use super::client::{RetryPolicy, parse_retry_after};

pub const ENV_TENANT: &str = "AZURE_TENANT_ID";
pub const ENV_CLIENT_ID: &str = "AZURE_CLIENT_ID";
pub const ENV_CLIENT_SECRET: &str = "AZURE_CLIENT_SECRET";
pub const ENV_AUTHORITY: &str = "AZURE_AUTHORITY_HOST";
pub const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// Graph's resource scope for app-only tokens.
pub const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";

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

/// An application's identity in a tenant.
#[derive(Clone, Debug)]
pub struct Credentials {
    /// Tenant id (GUID) or a verified domain.
    pub tenant: String,
    pub client_id: String,
    pub client_secret: Secret,
}

impl Credentials {
    /// Reads `AZURE_TENANT_ID`, `AZURE_CLIENT_ID` and `AZURE_CLIENT_SECRET`, naming every
    /// one that is missing.
    pub fn from_env() -> Result<Credentials, BackendError> {
        Credentials::from_lookup(|name| std::env::var(name).ok())
    }

    pub fn from_lookup(get: impl Fn(&str) -> Option<String>) -> Result<Credentials, BackendError> {
        let value = |name: &str| get(name).filter(|v| !v.trim().is_empty());
        let (tenant, client_id, secret) = (
            value(ENV_TENANT),
            value(ENV_CLIENT_ID),
            value(ENV_CLIENT_SECRET),
        );
        let missing: Vec<&str> = [
            (ENV_TENANT, tenant.is_none()),
            (ENV_CLIENT_ID, client_id.is_none()),
            (ENV_CLIENT_SECRET, secret.is_none()),
        ]
        .iter()
        .filter(|(_, m)| *m)
        .map(|(n, _)| *n)
        .collect();
        match (tenant, client_id, secret) {
            (Some(tenant), Some(client_id), Some(secret)) => Ok(Credentials {
                tenant: tenant.trim().to_string(),
                client_id: client_id.trim().to_string(),
                client_secret: Secret(secret),
            }),
            _ => Err(BackendError::Settings(format!(
                "the graph backend needs an app registration's client credentials: set {} \
                 (the Azure SDK's variables). Permissions: {}",
                missing.join(", "),
                super::permissions::HINT
            ))),
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

    async fn fetch(&self) -> Result<CachedToken, String> {
        let form = [
            ("grant_type", "client_credentials"),
            ("client_id", self.credentials.client_id.as_str()),
            ("client_secret", self.credentials.client_secret.expose()),
            ("scope", GRAPH_SCOPE),
        ];
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
                        "the token endpoint {} refused the client credentials of application {} ({} {}): {}",
                        self.token_url,
                        self.credentials.client_id,
                        status.as_u16(),
                        e.error,
                        e.error_description
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_debug_print() {
        let c = Credentials {
            tenant: "t".into(),
            client_id: "c".into(),
            client_secret: Secret::new("hunter2"),
        };
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
            err.contains(ENV_TENANT) && err.contains(ENV_CLIENT_SECRET),
            "{err}"
        );
        assert!(!err.contains(ENV_CLIENT_ID), "{err}");
    }
}
