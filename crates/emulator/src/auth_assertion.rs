//! Entra ID's `client_assertion` sign-in (`client_assertion_type`
//! `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`), in its two forms:
//!
//! - **Certificate credentials** (Microsoft identity platform application authentication
//!   certificate credentials): a JWT the application signs (RS256, or PS256 as the page now
//!   asks) whose header names the certificate by `x5t` (SHA-1 thumbprint) or `x5t#S256`
//!   (SHA-256), whose `aud` is the token endpoint, `iss` and `sub` the client id, and which
//!   has not expired. The certificate must be one registered with
//!   `commcred emulator --client-certificate FILE` (the app registration's "Certificates &
//!   secrets"); the signature is checked with its public key.
//! - **Workload identity federation**: a JWT another identity provider issued, whose `aud`
//!   must be `api://AzureADTokenExchange` (the federated credential's audience, Graph's
//!   federatedIdentityCredential resource) and which has not expired. The emulator cannot
//!   fetch the issuer's signing keys (loopback only), so it checks neither the signature nor
//!   the issuer and subject; docs/graph.md says so.
//!
//! Each refusal is Entra ID's: `invalid_client` with the AADSTS code Microsoft documents
//! (700027 signature, 700021 client id, 700023 audience, 700024 time range, 700212
//! federated audience). The assertion is never logged or echoed.

use std::path::Path;

use axum::http::StatusCode;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::{PemObject, SectionKind};
use serde_json::Value;

use super::auth::oauth_error;

/// The audience a federated token must carry for Entra ID.
pub const FEDERATION_AUDIENCE: &str = "api://AzureADTokenExchange";
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
/// Clock skew tolerated on `nbf` and `exp`.
const SKEW_SECS: i64 = 300;

/// A certificate uploaded to the application: its DER and thumbprints.
#[derive(Clone)]
pub struct RegisteredCertificate {
    der: Vec<u8>,
    x5t: String,
    x5t_s256: String,
}

impl std::fmt::Debug for RegisteredCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "RegisteredCertificate({})", self.x5t_s256)
    }
}

impl RegisteredCertificate {
    /// The first certificate in a PEM file (a private key beside it, as in the Azure SDK's
    /// convention, is ignored: Entra ID only ever holds the public part).
    pub fn from_pem_file(path: &Path) -> Result<RegisteredCertificate, String> {
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the certificate {}: {e}", path.display()))?;
        let der = <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes)
            .filter_map(Result::ok)
            .find(|(kind, _)| *kind == SectionKind::Certificate)
            .map(|(_, der)| der)
            .ok_or_else(|| {
                format!(
                    "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                    path.display()
                )
            })?;
        webpki::EndEntityCert::try_from(&CertificateDer::from(der.as_slice())).map_err(|e| {
            format!(
                "the certificate in {} cannot be read: {e:?}",
                path.display()
            )
        })?;
        Ok(RegisteredCertificate {
            x5t: URL_SAFE_NO_PAD.encode(ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &der,
            )),
            x5t_s256: URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &der)),
            der,
        })
    }
}

/// A JWT split into its parts, not yet trusted.
struct Jwt<'a> {
    header: Value,
    claims: Value,
    signing_input: &'a str,
    signature: Vec<u8>,
}

fn parse(token: &str) -> Option<Jwt<'_>> {
    let (signing_input, signature) = token.rsplit_once('.')?;
    let (header, claims) = signing_input.split_once('.')?;
    let decode = |part: &str| -> Option<Value> {
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part.trim_end_matches('=')).ok()?).ok()
    };
    Some(Jwt {
        header: decode(header)?,
        claims: decode(claims)?,
        signing_input,
        signature: URL_SAFE_NO_PAD
            .decode(signature.trim_end_matches('='))
            .ok()?,
    })
}

/// Boxed: a refusal is rare, and the `Ok` path should not carry a whole response.
fn invalid_client(aadsts: u32, description: &str) -> Box<Response> {
    Box::new(oauth_error(
        StatusCode::UNAUTHORIZED,
        "invalid_client",
        aadsts,
        description,
    ))
}

/// Checks a `client_assertion` sent by `client_id` to `token_url`; `Ok` when Entra ID
/// would accept it.
pub fn check(
    assertion_type: Option<&str>,
    assertion: &str,
    client_id: &str,
    token_url: &str,
    certificates: &[RegisteredCertificate],
    now: i64,
) -> Result<(), Box<Response>> {
    if assertion_type != Some(JWT_BEARER) {
        return Err(Box::new(oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            900144,
            &format!(
                "The request body must contain the following parameter: 'client_assertion_type' ({JWT_BEARER})."
            ),
        )));
    }
    let Some(jwt) = parse(assertion) else {
        return Err(invalid_client(50027, "JWT token is invalid or malformed."));
    };
    let header_str = |name: &str| jwt.header.get(name).and_then(Value::as_str);
    let by_thumbprint = header_str("x5t").is_some() || header_str("x5t#S256").is_some();
    if by_thumbprint {
        check_certificate(&jwt, client_id, token_url, certificates)?;
    } else {
        check_federated(&jwt)?;
    }
    check_time(&jwt.claims, now)
}

fn check_certificate(
    jwt: &Jwt<'_>,
    client_id: &str,
    token_url: &str,
    certificates: &[RegisteredCertificate],
) -> Result<(), Box<Response>> {
    let header_str = |name: &str| jwt.header.get(name).and_then(Value::as_str);
    let (x5t, x5t_s256) = (header_str("x5t"), header_str("x5t#S256"));
    let registered = certificates
        .iter()
        .find(|c| x5t_s256.is_some_and(|t| t == c.x5t_s256) || x5t.is_some_and(|t| t == c.x5t));
    let Some(registered) = registered else {
        return Err(invalid_client(
            700027,
            &format!(
                "Client assertion failed signature validation. The key was not found. (Key ID: {})",
                x5t_s256.or(x5t).unwrap_or_default()
            ),
        ));
    };
    let algorithm = match header_str("alg") {
        Some("RS256") => webpki::ring::RSA_PKCS1_2048_8192_SHA256,
        Some("PS256") => webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        other => {
            return Err(invalid_client(
                700027,
                &format!(
                    "Client assertion failed signature validation. Unsupported algorithm '{}'.",
                    other.unwrap_or("none")
                ),
            ));
        }
    };
    let der = CertificateDer::from(registered.der.as_slice());
    let verified = webpki::EndEntityCert::try_from(&der).is_ok_and(|cert| {
        cert.verify_signature(algorithm, jwt.signing_input.as_bytes(), &jwt.signature)
            .is_ok()
    });
    if !verified {
        return Err(invalid_client(
            700027,
            "Client assertion failed signature validation.",
        ));
    }
    let claim = |name: &str| jwt.claims.get(name).and_then(Value::as_str);
    if claim("iss") != Some(client_id) || claim("sub") != Some(client_id) {
        return Err(invalid_client(
            700021,
            "Client assertion application identifier doesn't match 'client_id' parameter.",
        ));
    }
    if !audience_contains(&jwt.claims, |aud| aud.eq_ignore_ascii_case(token_url)) {
        return Err(invalid_client(
            700023,
            &format!(
                "Client assertion audience claim does not match Realm issuer. Expected the token endpoint '{token_url}'."
            ),
        ));
    }
    Ok(())
}

fn check_federated(jwt: &Jwt<'_>) -> Result<(), Box<Response>> {
    if !audience_contains(&jwt.claims, |aud| aud == FEDERATION_AUDIENCE) {
        let presented = match jwt.claims.get("aud") {
            Some(Value::String(s)) => s.clone(),
            Some(other) => other.to_string(),
            None => String::new(),
        };
        return Err(invalid_client(
            700212,
            &format!(
                "No matching federated identity record found for presented assertion audience '{presented}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion."
            ),
        ));
    }
    Ok(())
}

/// `aud` is a string or an array of strings (RFC 7519 §4.1.3).
fn audience_contains(claims: &Value, wanted: impl Fn(&str) -> bool) -> bool {
    match claims.get("aud") {
        Some(Value::String(s)) => wanted(s),
        Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).any(wanted),
        _ => false,
    }
}

fn check_time(claims: &Value, now: i64) -> Result<(), Box<Response>> {
    let time = |name: &str| claims.get(name).and_then(Value::as_i64);
    let Some(exp) = time("exp") else {
        return Err(invalid_client(
            700024,
            "Client assertion is not within its valid time range. The assertion has no 'exp' claim.",
        ));
    };
    let nbf = time("nbf").unwrap_or(i64::MIN);
    if exp.saturating_add(SKEW_SECS) <= now || nbf.saturating_sub(SKEW_SECS) > now {
        return Err(invalid_client(
            700024,
            &format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}.",
                utc(now),
                if nbf == i64::MIN {
                    "-".to_string()
                } else {
                    utc(nbf)
                },
                utc(exp)
            ),
        ));
    }
    Ok(())
}

fn utc(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0)
        .map(|t| t.format("%Y-%m-%dT%H:%M:%S%.7fZ").to_string())
        .unwrap_or_else(|| t.to_string())
}
