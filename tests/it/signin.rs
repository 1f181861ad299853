//! Signing in without a secret, through the binaries over loopback: a certificate (a key and
//! a self-signed certificate generated here, one PEM file as the Azure SDK reads it, plain
//! or encrypted) and a federated token file, each against `commcred emulator
//! --client-certificate`; a wrong certificate, an expired assertion and a token for another
//! audience are refused with Entra ID's code and what to do; no key, password, token or
//! assertion reaches any output or file.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rsa::pkcs8::{EncodePrivateKey, LineEnding};

use crate::emulator::{EmulatorProcess, TENANT_DOMAIN, spawn_binary};
use crate::graph::quickstart_without_credits;

const PASSWORD: &str = "pfx-P4ssw0rd-Not-For-Output";

/// A 2048-bit RSA key and a self-signed certificate for it, as PEM.
struct TestCertificate {
    key_pem: String,
    cert_pem: String,
    key: rsa::RsaPrivateKey,
}

fn generate() -> TestCertificate {
    let key = rsa::RsaPrivateKey::new(&mut rsa::rand_core::OsRng, 2048).unwrap();
    let key_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let pair =
        rcgen::KeyPair::from_pkcs8_pem_and_sign_algo(&key_pem, &rcgen::PKCS_RSA_SHA256).unwrap();
    let cert = rcgen::CertificateParams::new(vec!["commcred-signin-test".to_string()])
        .unwrap()
        .self_signed(&pair)
        .unwrap();
    TestCertificate {
        key_pem,
        cert_pem: cert.pem(),
        key,
    }
}

impl TestCertificate {
    /// The Azure SDK's convention: one PEM with the private key and the certificate.
    fn write(&self, path: &Path) -> PathBuf {
        std::fs::write(path, format!("{}{}", self.key_pem, self.cert_pem)).unwrap();
        path.to_path_buf()
    }

    fn write_encrypted(&self, path: &Path) -> PathBuf {
        let encrypted = self
            .key
            .to_pkcs8_encrypted_pem(&mut rsa::rand_core::OsRng, PASSWORD, LineEnding::LF)
            .unwrap();
        std::fs::write(path, format!("{}{}", encrypted.as_str(), self.cert_pem)).unwrap();
        path.to_path_buf()
    }

    /// The base64 body lines of the private key: what must never be printed.
    fn key_lines(&self) -> Vec<String> {
        self.key_pem
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .map(str::to_string)
            .collect()
    }
}

/// An unsigned JWT another identity provider might have issued.
fn federated_token(aud: &str, exp_offset_secs: i64) -> String {
    let now = chrono::Utc::now().timestamp();
    let claims = serde_json::json!({
        "iss": "https://token.actions.githubusercontent.com",
        "sub": "repo:contoso/licenses:ref:refs/heads/main",
        "aud": aud,
        "iat": now - 60,
        "nbf": now - 60,
        "exp": now + exp_offset_secs,
        "jti": "federated-FED-TOKEN-MARKER",
    });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT","kid":"github"}"#),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(b"signature-of-the-issuer")
    )
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// `commcred plan -vv` against the emulator with only the given sign-in variables.
fn plan(dir: &Path, emulator: &EmulatorProcess, vars: &[(&str, &str)]) -> Run {
    let mut cmd = crate::common::commcred(dir);
    cmd.env("COMMCRED_BACKEND", format!("graph:{}", emulator.url))
        .env("AZURE_TENANT_ID", TENANT_DOMAIN)
        .env("AZURE_CLIENT_ID", "commcred-signin");
    for var in [
        "AZURE_CLIENT_SECRET",
        "AZURE_CLIENT_CERTIFICATE_PATH",
        "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        "AZURE_FEDERATED_TOKEN_FILE",
        "AZURE_AUTHORITY_HOST",
    ] {
        cmd.env_remove(var);
    }
    for (k, v) in vars {
        cmd.env(k, v);
    }
    let out = cmd.args(["plan", "-vv"]).output().unwrap();
    Run {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn stop(mut emulator: EmulatorProcess) -> String {
    let _ = emulator.child.kill();
    let _ = emulator.child.wait();
    let mut err = String::new();
    if let Some(mut e) = emulator.child.stderr.take() {
        use std::io::Read;
        let _ = e.read_to_string(&mut err);
    }
    err
}

/// Every file under `dir` except the credential files themselves, as text.
fn written_files(dir: &Path, credentials: &[PathBuf]) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if credentials.contains(&path) {
            continue;
        }
        if path.is_dir() {
            out.extend(written_files(&path, credentials));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).into_owned();
            out.push(format!("{}: {text}", path.display()));
        }
    }
    out
}

#[test]
fn signin_with_certificate_federated_token_and_secret_and_their_refusals() {
    let dir = quickstart_without_credits();
    let creds = tempfile::tempdir().unwrap();
    let good = generate();
    let other = generate();
    let registered = good.write(&creds.path().join("client.pem"));
    let encrypted = good.write_encrypted(&creds.path().join("client-encrypted.pem"));
    let wrong = other.write(&creds.path().join("other.pem"));
    let tenant = dir.path().join("tenant.json");
    let emulator = spawn_binary(
        &[
            "--tenant",
            tenant.to_str().unwrap(),
            "--client-certificate",
            registered.to_str().unwrap(),
        ],
        &[],
    );
    let mut outputs = Vec::new();
    let mut expect = |vars: &[(&str, &str)], code: i32, needles: &[&str]| {
        let run = plan(dir.path(), &emulator, vars);
        let all = format!("{}\n{}", run.stdout, run.stderr);
        assert_eq!(run.code, Some(code), "{vars:?}\n{all}");
        // The renderer wraps long lines (with a `|` gutter): compare without the layout.
        let squeeze = |t: &str| t.replace(|c: char| c.is_whitespace() || c == '|', "");
        for needle in needles {
            assert!(
                squeeze(&all).contains(&squeeze(needle)),
                "{vars:?}: no {needle:?} in\n{all}"
            );
        }
        outputs.push(all);
    };
    let path = |p: &PathBuf| p.to_str().unwrap().to_string();

    // The certificate the app registration holds: plain, and encrypted with its password.
    expect(
        &[("AZURE_CLIENT_CERTIFICATE_PATH", &path(&registered))],
        0,
        &["Plan:"],
    );
    expect(
        &[
            ("AZURE_CLIENT_CERTIFICATE_PATH", &path(&encrypted)),
            ("AZURE_CLIENT_CERTIFICATE_PASSWORD", PASSWORD),
        ],
        0,
        &["Plan:"],
    );
    // The encrypted one without its password: named before anything is sent.
    expect(
        &[("AZURE_CLIENT_CERTIFICATE_PATH", &path(&encrypted))],
        1,
        &[
            "commcred::graph::credential",
            "AZURE_CLIENT_CERTIFICATE_PASSWORD",
        ],
    );
    // A certificate Entra ID does not know.
    expect(
        &[("AZURE_CLIENT_CERTIFICATE_PATH", &path(&wrong))],
        1,
        &[
            "commcred::backend::auth",
            "AADSTS700027",
            "upload this certificate",
        ],
    );
    // A federated token for api://AzureADTokenExchange, valid for 5 minutes.
    let token_file = creds.path().join("federated-token");
    let token = federated_token("api://AzureADTokenExchange", 300);
    std::fs::write(&token_file, &token).unwrap();
    expect(
        &[("AZURE_FEDERATED_TOKEN_FILE", &path(&token_file))],
        0,
        &["Plan:"],
    );
    // The secret still wins when it is set too (the Azure SDK's order).
    expect(
        &[
            ("AZURE_CLIENT_SECRET", "any-secret-value-7"),
            ("AZURE_CLIENT_CERTIFICATE_PATH", "/nonexistent/cert.pem"),
        ],
        0,
        &["Plan:"],
    );
    // A token for another audience: Entra ID's AADSTS700212.
    let other_audience = federated_token("api://SomethingElse", 300);
    std::fs::write(&token_file, &other_audience).unwrap();
    expect(
        &[("AZURE_FEDERATED_TOKEN_FILE", &path(&token_file))],
        1,
        &["AADSTS700212", "api://AzureADTokenExchange"],
    );
    // An expired one: refused before sending, naming the file.
    let expired = federated_token("api://AzureADTokenExchange", -3600);
    std::fs::write(&token_file, &expired).unwrap();
    expect(
        &[("AZURE_FEDERATED_TOKEN_FILE", &path(&token_file))],
        1,
        &["expired", "AADSTS700024", "federated-token"],
    );
    outputs.push(stop(emulator));
    outputs.extend(written_files(dir.path(), &[]));
    outputs.extend(written_files(
        creds.path(),
        &[registered, encrypted, wrong, token_file],
    ));

    let mut secrets: Vec<String> = good.key_lines();
    secrets.extend(other.key_lines());
    secrets.push(PASSWORD.to_string());
    secrets.push("any-secret-value-7".to_string());
    for t in [&token, &other_audience, &expired] {
        // Any of the three parts of a token, and its marker claim.
        secrets.extend(t.split('.').map(str::to_string));
    }
    secrets.push("FED-TOKEN-MARKER".to_string());
    for text in &outputs {
        for secret in &secrets {
            assert!(
                !text.contains(secret.as_str()),
                "secret material leaked into: {text}"
            );
        }
        // No signed assertion either: a JWT's encoded header starts with `eyJ`.
        assert!(
            !text.contains("eyJhbGciOiJQUzI1Ni"),
            "an assertion leaked: {text}"
        );
    }
}

#[test]
fn signin_assertion_checks_in_process_audience_expiry_and_signature() {
    use commcred::backend::graph::{
        ClientCertificate, ClientCredential, Credentials, GraphBackend, GraphOptions,
    };
    let dir = tempfile::tempdir().unwrap();
    let tenant = crate::emulator::write_tenant(dir.path(), &crate::emulator::rules_tenant());
    let good = generate();
    let pem = good.write(&dir.path().join("client.pem"));
    let emulator = crate::emulator::start(&tenant, |c| c.client_certificates = vec![pem.clone()]);
    let cert = ClientCertificate::load(&pem, None).unwrap();
    let credentials = Credentials {
        tenant: TENANT_DOMAIN.into(),
        client_id: "in-process".into(),
        credential: ClientCredential::Certificate(std::sync::Arc::new(cert)),
    };
    // Debug output of the credentials shows the thumbprint, never the key.
    let shown = format!("{credentials:?}");
    assert!(shown.contains("[redacted]"), "{shown}");
    for line in good.key_lines() {
        assert!(!shown.contains(&line));
    }
    let mut graph =
        GraphBackend::new(GraphOptions::new(Some(&emulator.base_url()), credentials)).unwrap();
    use commcred::backend::Backend;
    assert_eq!(graph.read().unwrap().users.len(), 3);

    // The assertion's audience is the token endpoint: one signed for another endpoint
    // (a client configured with another authority) is refused with AADSTS700023.
    let client = raw_post::wrong_audience(&emulator.base_url(), &good);
    assert!(client.contains("AADSTS700023"), "{client}");
}

/// A hand-made certificate assertion for the wrong audience, posted with std's TCP (no
/// blocking HTTP client in the dependencies).
mod raw_post {
    use super::*;

    pub fn wrong_audience(base_url: &str, cert: &TestCertificate) -> String {
        use ring::signature::{RSA_PSS_SHA256, RsaKeyPair};
        let der =
            rustls_pki_types::CertificateDer::from_pem_slice(cert.cert_pem.as_bytes()).unwrap();
        let x5t = URL_SAFE_NO_PAD.encode(ring::digest::digest(&ring::digest::SHA256, &der));
        let now = chrono::Utc::now().timestamp();
        let header = serde_json::json!({"alg": "PS256", "typ": "JWT", "x5t#S256": x5t});
        let claims = serde_json::json!({
            "aud": "https://login.microsoftonline.com/elsewhere/oauth2/v2.0/token",
            "iss": "in-process", "sub": "in-process", "jti": "1",
            "nbf": now, "iat": now, "exp": now + 300,
        });
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let key_der = cert.key.to_pkcs8_der().unwrap();
        let pair = RsaKeyPair::from_pkcs8(key_der.as_bytes()).unwrap();
        let mut sig = vec![0; pair.public().modulus_len()];
        pair.sign(
            &RSA_PSS_SHA256,
            &ring::rand::SystemRandom::new(),
            input.as_bytes(),
            &mut sig,
        )
        .unwrap();
        let assertion = format!("{input}.{}", URL_SAFE_NO_PAD.encode(sig));
        let body = format!(
            "grant_type=client_credentials&client_id=in-process&scope=https%3A%2F%2Fgraph.microsoft.com%2F.default&client_assertion_type=urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer&client_assertion={assertion}"
        );
        let addr = base_url.trim_start_matches("http://");
        let mut stream = std::net::TcpStream::connect(addr).unwrap();
        stream
            .set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        use std::io::{Read, Write};
        write!(
            stream,
            "POST /{TENANT_DOMAIN}/oauth2/v2.0/token HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    }

    use rustls_pki_types::pem::PemObject;
}
