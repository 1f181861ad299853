//! Sign-in with a certificate: the private key and certificate of one PEM file (the Azure
//! SDK's `AZURE_CLIENT_CERTIFICATE_PATH`, optionally encrypted with
//! `AZURE_CLIENT_CERTIFICATE_PASSWORD`) sign a short-lived JWT that the token request sends
//! as `client_assertion`, as Microsoft's "Microsoft identity platform application
//! authentication certificate credentials" describes: header `alg` PS256, `typ` JWT,
//! `x5t#S256` (and `x5t`, the SHA-1 thumbprint the page's earlier version names); claims
//! `aud` (the token endpoint), `iss` = `sub` = the client id, `jti`, `nbf`, `iat`, `exp`.
//!
//! The key never leaves this module except as signatures; `Debug` shows the file and the
//! certificate's thumbprint only.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use ring::rand::SystemRandom;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
use rustls_pki_types::pem::{PemObject, SectionKind};
use serde_json::json;

use super::auth::Secret;

/// How long a signed assertion is valid: Microsoft's page says to keep it short, 5 to 10
/// minutes after `nbf` at most.
const ASSERTION_LIFETIME_SECS: i64 = 600;

/// A certificate and the private key that signs assertions for it.
pub struct ClientCertificate {
    path: PathBuf,
    key: RsaKeyPair,
    /// Base64url SHA-1 and SHA-256 thumbprints of the certificate's DER encoding.
    x5t: String,
    x5t_s256: String,
    rng: SystemRandom,
}

impl std::fmt::Debug for ClientCertificate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientCertificate")
            .field("path", &self.path)
            .field("x5t#S256", &self.x5t_s256)
            .field("key", &"[redacted]")
            .finish()
    }
}

impl ClientCertificate {
    /// Reads `path`: one PEM holding the certificate and its RSA private key (`PRIVATE
    /// KEY`, `RSA PRIVATE KEY`, or `ENCRYPTED PRIVATE KEY` with `password`). Every refusal
    /// says what is wrong with the file and what to do, and never quotes its content.
    pub fn load(path: &Path, password: Option<&Secret>) -> Result<ClientCertificate, String> {
        let shown = path.display();
        let bytes = std::fs::read(path)
            .map_err(|e| format!("cannot read the certificate file {shown}: {e}"))?;
        if !bytes.starts_with(b"-----") && !contains(&bytes, b"-----BEGIN ") {
            return Err(format!(
                "the certificate file {shown} is not PEM (a .pfx/.p12 file?): commcred reads one PEM file holding the private key and the certificate, as the Azure SDK does; convert with `openssl pkcs12 -in cert.pfx -out cert.pem -nodes`"
            ));
        }
        let mut certificate = None;
        let mut key_der = None;
        for section in <(SectionKind, Vec<u8>)>::pem_slice_iter(&bytes) {
            let (kind, der) = section
                .map_err(|e| format!("the certificate file {shown} is not valid PEM: {e}"))?;
            match kind {
                SectionKind::Certificate if certificate.is_none() => certificate = Some(der),
                SectionKind::PrivateKey => key_der = Some(Key::Pkcs8(der)),
                SectionKind::RsaPrivateKey => key_der = Some(Key::Pkcs1(der)),
                SectionKind::EcPrivateKey => {
                    return Err(format!(
                        "the private key in {shown} is an EC key: Entra ID signs in applications with RSA certificates (PS256/RS256); create an RSA certificate"
                    ));
                }
                _ => {}
            }
        }
        if key_der.is_none() && contains(&bytes, b"-----BEGIN ENCRYPTED PRIVATE KEY-----") {
            let Some(password) = password else {
                return Err(format!(
                    "the private key in {shown} is encrypted: set AZURE_CLIENT_CERTIFICATE_PASSWORD (or the workspace's certificatePasswordEnv) to its password"
                ));
            };
            key_der = Some(Key::Pkcs8(decrypt(&bytes, password).map_err(|why| {
                format!("cannot decrypt the private key in {shown}: {why}")
            })?));
        }
        if contains(&bytes, b"Proc-Type: 4,ENCRYPTED") {
            return Err(format!(
                "the private key in {shown} uses OpenSSL's legacy encryption: convert it to PKCS#8 with `openssl pkcs8 -topk8 -in key.pem` (with or without -nocrypt)"
            ));
        }
        let certificate = certificate.ok_or_else(|| {
            format!(
                "{shown} holds no certificate (`-----BEGIN CERTIFICATE-----`): the Azure SDK's convention is one PEM file with the private key and the certificate"
            )
        })?;
        let key = match key_der {
            Some(Key::Pkcs8(der)) => RsaKeyPair::from_pkcs8(&der),
            Some(Key::Pkcs1(der)) => RsaKeyPair::from_der(&der),
            None => {
                return Err(format!(
                    "{shown} holds no private key: the Azure SDK's convention is one PEM file with the private key and the certificate (`cat key.pem cert.pem > client.pem`)"
                ));
            }
        }
        .map_err(|e| format!("the private key in {shown} is not a usable RSA key ({e}): Entra ID needs RSA, 2048 bits or more"))?;
        let cert = ClientCertificate {
            path: path.to_path_buf(),
            key,
            x5t: URL_SAFE_NO_PAD.encode(ring::digest::digest(
                &ring::digest::SHA1_FOR_LEGACY_USE_ONLY,
                &certificate,
            )),
            x5t_s256: URL_SAFE_NO_PAD
                .encode(ring::digest::digest(&ring::digest::SHA256, &certificate)),
            rng: SystemRandom::new(),
        };
        cert.check_pair(&certificate)?;
        Ok(cert)
    }

    /// The key must be the certificate's: a signature made with it must verify with the
    /// certificate's public key, or Entra ID would refuse every assertion (AADSTS700027).
    fn check_pair(&self, certificate: &[u8]) -> Result<(), String> {
        let shown = self.path.display();
        let der = rustls_pki_types::CertificateDer::from(certificate);
        let parsed = webpki::EndEntityCert::try_from(&der)
            .map_err(|e| format!("the certificate in {shown} cannot be read: {e:?}"))?;
        let probe = b"commcred: does this key belong to this certificate?";
        let signature = self.sign(probe)?;
        parsed
            .verify_signature(
                webpki::ring::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
                probe,
                &signature,
            )
            .map_err(|_| {
                format!(
                    "the private key in {shown} does not belong to the certificate in the same file: put the certificate's own key beside it"
                )
            })
    }

    fn sign(&self, message: &[u8]) -> Result<Vec<u8>, String> {
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(&RSA_PSS_SHA256, &self.rng, message, &mut signature)
            .map_err(|_| format!("cannot sign with the key in {}", self.path.display()))?;
        Ok(signature)
    }

    /// A signed assertion for `client_id` at `token_url`, valid from now for a few minutes.
    pub fn assertion(&self, client_id: &str, token_url: &str) -> Result<Secret, String> {
        let now = chrono::Utc::now().timestamp();
        let header = json!({
            "alg": "PS256",
            "typ": "JWT",
            "x5t": self.x5t,
            "x5t#S256": self.x5t_s256,
        });
        let jti: [u8; 16] = rand::random();
        let claims = json!({
            "aud": token_url,
            "iss": client_id,
            "sub": client_id,
            "jti": hex::encode(jti),
            "nbf": now,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME_SECS,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let signature = self.sign(signing_input.as_bytes())?;
        Ok(Secret::new(format!(
            "{signing_input}.{}",
            URL_SAFE_NO_PAD.encode(signature)
        )))
    }

    /// The certificate's SHA-256 thumbprint (base64url), to name it in messages.
    pub fn thumbprint(&self) -> &str {
        &self.x5t_s256
    }
}

enum Key {
    Pkcs8(Vec<u8>),
    Pkcs1(Vec<u8>),
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

/// The PKCS#8 DER inside the file's `ENCRYPTED PRIVATE KEY` block (PBES2, as OpenSSL and
/// the Azure portal's exports write it).
fn decrypt(pem: &[u8], password: &Secret) -> Result<Vec<u8>, String> {
    let text = String::from_utf8_lossy(pem);
    let body: String = text
        .split("-----BEGIN ENCRYPTED PRIVATE KEY-----")
        .nth(1)
        .and_then(|rest| rest.split("-----END ENCRYPTED PRIVATE KEY-----").next())
        .ok_or("the ENCRYPTED PRIVATE KEY block has no end")?
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let der = STANDARD
        .decode(body)
        .map_err(|_| "the ENCRYPTED PRIVATE KEY block is not base64".to_string())?;
    let info = pkcs8::EncryptedPrivateKeyInfo::try_from(der.as_slice())
        .map_err(|e| format!("not an encrypted PKCS#8 key ({e})"))?;
    let plain = info.decrypt(password.expose()).map_err(|_| {
        "wrong password, or an encryption scheme commcred does not read (use PBES2 with AES)"
            .to_string()
    })?;
    Ok(plain.as_bytes().to_vec())
}
