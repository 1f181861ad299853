//! Sign-in with a federated token (workload identity federation): the Azure SDK's
//! `AZURE_FEDERATED_TOKEN_FILE` holds a JWT that another identity provider issued (a GitHub
//! Actions or GitLab OIDC job's token, a Kubernetes service account token) for the audience
//! `api://AzureADTokenExchange`; the token request sends it as `client_assertion`, as
//! Microsoft's client credentials flow describes ("access token request with a federated
//! credential"). The file is read again for every token request, because the platform
//! replaces it before it expires.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use super::auth::Secret;

/// Where the federated token is.
#[derive(Clone, Debug)]
pub struct FederatedTokenFile {
    pub path: PathBuf,
}

impl FederatedTokenFile {
    pub fn new(path: impl Into<PathBuf>) -> FederatedTokenFile {
        FederatedTokenFile { path: path.into() }
    }

    /// The token now in the file. Refused before sending when the file is missing, empty,
    /// not a JWT, or its `exp` has passed (Entra ID would answer AADSTS700024), so that the
    /// message can name the file and say what to do; the token itself is never quoted.
    pub fn read(&self, now: i64) -> Result<Secret, String> {
        let shown = self.path.display();
        let text = std::fs::read_to_string(&self.path)
            .map_err(|e| format!("cannot read the federated token file {shown}: {e}"))?;
        let token = text.trim();
        if token.is_empty() {
            return Err(format!(
                "the federated token file {shown} is empty: the CI job must write its OIDC token there before commcred runs (docs/graph.md)"
            ));
        }
        match expiry(token) {
            None => Err(format!(
                "the federated token file {shown} does not hold a JWT (three base64url parts separated by dots)"
            )),
            Some(Some(exp)) if exp <= now => Err(format!(
                "the federated token in {shown} expired {} ago (exp {}): Entra ID refuses expired assertions (AADSTS700024); fetch a fresh token just before running commcred",
                humanize(now - exp),
                chrono::DateTime::from_timestamp(exp, 0)
                    .map(|t| t.to_rfc3339())
                    .unwrap_or_else(|| exp.to_string())
            )),
            Some(_) => Ok(Secret::new(token)),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// `None` when `token` is not a JWT; `Some(None)` when it has no `exp`.
fn expiry(token: &str) -> Option<Option<i64>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = URL_SAFE_NO_PAD.decode(payload.trim_end_matches('=')).ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    Some(claims.get("exp").and_then(serde_json::Value::as_i64))
}

fn humanize(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s} s"),
        s if s < 7200 => format!("{} min", s / 60),
        s => format!("{} h", s / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn jwt(claims: serde_json::Value) -> String {
        format!(
            "{}.{}.sig",
            URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256"}"#),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        )
    }

    #[test]
    fn expired_empty_and_malformed_tokens_are_refused_without_quoting_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("token");
        let file = FederatedTokenFile::new(&path);
        assert!(file.read(0).unwrap_err().contains("cannot read"));
        std::fs::write(&path, "  \n").unwrap();
        assert!(file.read(0).unwrap_err().contains("empty"));
        std::fs::write(&path, "not-a-jwt-SECRETISH").unwrap();
        let e = file.read(0).unwrap_err();
        assert!(e.contains("JWT") && !e.contains("SECRETISH"), "{e}");
        let expired = jwt(serde_json::json!({"exp": 1000}));
        std::fs::write(&path, &expired).unwrap();
        let e = file.read(1600).unwrap_err();
        assert!(
            e.contains("expired 10 min ago") && !e.contains(&expired),
            "{e}"
        );
        assert!(file.read(999).is_ok());
    }
}
