//! The workspace file: many tenants from one repository. Each tenant has a unique `name`
//! (used in file names and reports), its own `config` (a commcred.yaml, relative to the
//! workspace file), optional `tags`, and, for Microsoft Graph, the *names* of the
//! environment variables holding its credentials (never their values):
//!
//! ```yaml
//! apiVersion: commcred/v1
//! tenants:
//!   - name: contoso
//!     config: contoso/commcred.yaml
//!     tags: [eu, gold]
//!     auth: {tenantIdEnv: CONTOSO_TENANT_ID, clientIdEnv: CONTOSO_CLIENT_ID,
//!            federatedTokenFileEnv: CONTOSO_TOKEN_FILE}
//! ```
//!
//! Every problem is reported with the file, line and column and a stable code
//! (`commcred::workspace::*`, docs/diagnostics.md).

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use serde_saphyr::Spanned;

/// Where a problem is: the workspace file, line and column (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct At {
    pub path: PathBuf,
    pub line: u64,
    pub column: u64,
}

impl std::fmt::Display for At {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.path.display(), self.line, self.column)
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum WorkspaceError {
    #[error("cannot read the workspace file {}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::workspace::read),
        help("check the path given to --workspace")
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    /// Not YAML, or not the workspace's shape (an unknown key, a missing field).
    #[error("{at}: {message}")]
    #[diagnostic(
        code(commcred::workspace::syntax),
        help(
            "a workspace file is `apiVersion: commcred/v1` and `tenants:`, a list of {{name, config, tags, auth}}; docs/workspace.md shows one"
        )
    )]
    Syntax { at: At, message: String },
    /// A field has a value commcred cannot use.
    #[error("{at}: {message}")]
    #[diagnostic(code(commcred::workspace::invalid), help("{help}"))]
    Invalid {
        at: At,
        message: String,
        help: String,
    },
    /// `--tenants` / `--tag` select no tenant, or name one the workspace does not have.
    #[error("{0}")]
    #[diagnostic(
        code(commcred::workspace::selection),
        help(
            "--tenants takes names from the workspace file, comma-separated; --tag one of their tags"
        )
    )]
    Selection(String),
}

/// The environment variables (names) a tenant's Graph credentials are read from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthEnv {
    pub tenant_id_env: String,
    pub client_id_env: String,
    pub client_secret_env: Option<String>,
    pub certificate_path_env: Option<String>,
    pub certificate_password_env: Option<String>,
    pub federated_token_file_env: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceTenant {
    pub name: String,
    /// The tenant's commcred.yaml, resolved against the workspace file's folder.
    pub config: PathBuf,
    pub tags: Vec<String>,
    /// `None`: the Azure SDK's own variables (`AZURE_TENANT_ID`, ...).
    pub auth: Option<AuthEnv>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workspace {
    pub path: PathBuf,
    /// In written order.
    pub tenants: Vec<WorkspaceTenant>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Raw {
    api_version: Spanned<String>,
    tenants: Spanned<Vec<RawTenant>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawTenant {
    name: Spanned<String>,
    config: Spanned<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    auth: Option<Spanned<RawAuth>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAuth {
    tenant_id_env: String,
    client_id_env: String,
    #[serde(default)]
    client_secret_env: Option<String>,
    #[serde(default)]
    certificate_path_env: Option<String>,
    #[serde(default)]
    certificate_password_env: Option<String>,
    #[serde(default)]
    federated_token_file_env: Option<String>,
}

/// Reads and checks a workspace file: every tenant named once with a usable name, every
/// `auth` naming exactly one way to sign in. The tenants' configs are not read here: one
/// broken config fails that tenant only, when it is planned.
// Long: each check of the file in order, each with its own line, column and help.
pub fn load_workspace(path: &Path) -> Result<Workspace, WorkspaceError> {
    let text = std::fs::read_to_string(path).map_err(|source| WorkspaceError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let at = |l: &serde_saphyr::Location| At {
        path: path.to_path_buf(),
        line: l.line(),
        column: l.column(),
    };
    let raw: Raw = serde_saphyr::from_str(&text).map_err(|e| {
        let message = e.to_string();
        let (line, column) = e
            .location()
            .map(|l| (l.line(), l.column()))
            .unwrap_or((1, 1));
        WorkspaceError::Syntax {
            at: At {
                path: path.to_path_buf(),
                line,
                column,
            },
            message: message.lines().next().unwrap_or_default().to_string(),
        }
    })?;
    let invalid =
        |l: &serde_saphyr::Location, message: String, help: &str| WorkspaceError::Invalid {
            at: at(l),
            message,
            help: help.to_string(),
        };
    if raw.api_version.value != super::validate::API_VERSION {
        return Err(invalid(
            &raw.api_version.referenced,
            format!("unsupported apiVersion `{}`", raw.api_version.value),
            "set `apiVersion: commcred/v1`",
        ));
    }
    if raw.tenants.value.is_empty() {
        return Err(invalid(
            &raw.tenants.referenced,
            "the workspace lists no tenants".into(),
            "add `- {name: contoso, config: contoso/commcred.yaml}` under `tenants:`",
        ));
    }
    let folder = path.parent().unwrap_or(Path::new(""));
    let mut seen: HashMap<String, serde_saphyr::Location> = HashMap::new();
    let mut tenants = Vec::new();
    for t in raw.tenants.value {
        let name = t.name.value.trim().to_string();
        let usable = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            && !name.starts_with('.');
        if !usable {
            return Err(invalid(
                &t.name.referenced,
                format!("tenant name `{name}` cannot be used in file names"),
                "use letters, digits, `-`, `_` and `.` (not first), e.g. `contoso-eu`",
            ));
        }
        if let Some(first) = seen.get(&name.to_ascii_lowercase()) {
            return Err(invalid(
                &t.name.referenced,
                format!(
                    "tenant `{name}` is listed twice (first at line {})",
                    first.line()
                ),
                "give each tenant a unique name: it names its saved plan and its report line",
            ));
        }
        seen.insert(name.to_ascii_lowercase(), t.name.referenced);
        if t.config.value.trim().is_empty() {
            return Err(invalid(
                &t.config.referenced,
                format!("tenant `{name}` has an empty `config`"),
                "give the path of its commcred.yaml, relative to the workspace file",
            ));
        }
        let auth = match t.auth {
            None => None,
            Some(a) => Some(auth(&name, a, &invalid)?),
        };
        tenants.push(WorkspaceTenant {
            config: folder.join(t.config.value.trim()),
            name,
            tags: t.tags,
            auth,
        });
    }
    Ok(Workspace {
        path: path.to_path_buf(),
        tenants,
    })
}

fn auth(
    name: &str,
    a: Spanned<RawAuth>,
    invalid: &dyn Fn(&serde_saphyr::Location, String, &str) -> WorkspaceError,
) -> Result<AuthEnv, WorkspaceError> {
    let r = a.value;
    let ways = [
        r.client_secret_env.is_some(),
        r.certificate_path_env.is_some(),
        r.federated_token_file_env.is_some(),
    ]
    .iter()
    .filter(|w| **w)
    .count();
    if ways != 1 {
        return Err(invalid(
            &a.referenced,
            format!("tenant `{name}`: auth names {ways} ways to sign in; it needs exactly one"),
            "give one of clientSecretEnv, certificatePathEnv (with certificatePasswordEnv if the key is encrypted) or federatedTokenFileEnv: the NAME of an environment variable, never its value",
        ));
    }
    if r.certificate_password_env.is_some() && r.certificate_path_env.is_none() {
        return Err(invalid(
            &a.referenced,
            format!("tenant `{name}`: certificatePasswordEnv without certificatePathEnv"),
            "certificatePasswordEnv is the password of the key in certificatePathEnv's file",
        ));
    }
    let names = [
        Some(&r.tenant_id_env),
        Some(&r.client_id_env),
        r.client_secret_env.as_ref(),
        r.certificate_path_env.as_ref(),
        r.certificate_password_env.as_ref(),
        r.federated_token_file_env.as_ref(),
    ];
    for n in names.into_iter().flatten() {
        let plausible = !n.is_empty()
            && n.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !n.starts_with(|c: char| c.is_ascii_digit());
        if !plausible {
            return Err(invalid(
                &a.referenced,
                format!(
                    "tenant `{name}`: `{}` is not an environment variable name",
                    shorten(n)
                ),
                "auth holds the NAMES of environment variables (e.g. CONTOSO_CLIENT_SECRET), never the values themselves",
            ));
        }
    }
    Ok(AuthEnv {
        tenant_id_env: r.tenant_id_env,
        client_id_env: r.client_id_env,
        client_secret_env: r.client_secret_env,
        certificate_path_env: r.certificate_path_env,
        certificate_password_env: r.certificate_password_env,
        federated_token_file_env: r.federated_token_file_env,
    })
}

/// A value that is not a variable name may be a pasted secret: show only its start.
fn shorten(text: &str) -> String {
    let start: String = text.chars().take(4).collect();
    if text.chars().count() > 4 {
        format!("{start}…")
    } else {
        start
    }
}

impl Workspace {
    /// The tenants `--tenants` (names) and `--tag` select, in written order; all without
    /// either. A name the workspace does not have is an error, naming the ones it has.
    pub fn select(
        &self,
        names: &[String],
        tag: Option<&str>,
    ) -> Result<Vec<&WorkspaceTenant>, WorkspaceError> {
        for n in names {
            if !self.tenants.iter().any(|t| t.name.eq_ignore_ascii_case(n)) {
                let known: Vec<&str> = self.tenants.iter().map(|t| t.name.as_str()).collect();
                return Err(WorkspaceError::Selection(format!(
                    "--tenants names `{n}`, which {} does not list (it has {})",
                    self.path.display(),
                    known.join(", ")
                )));
            }
        }
        let chosen: Vec<&WorkspaceTenant> = self
            .tenants
            .iter()
            .filter(|t| names.is_empty() || names.iter().any(|n| t.name.eq_ignore_ascii_case(n)))
            .filter(|t| tag.is_none_or(|tag| t.tags.iter().any(|g| g == tag)))
            .collect();
        if chosen.is_empty() {
            return Err(WorkspaceError::Selection(format!(
                "no tenant of {} matches the selection{}",
                self.path.display(),
                tag.map(|t| format!(" (tag `{t}`)")).unwrap_or_default()
            )));
        }
        Ok(chosen)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(text: &str) -> Result<Workspace, WorkspaceError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("workspace.yaml");
        std::fs::write(&path, text).unwrap();
        load_workspace(&path)
    }

    #[test]
    fn tenants_resolve_their_config_next_to_the_workspace_and_select_by_name_and_tag() {
        let ws = load(
            "apiVersion: commcred/v1\ntenants:\n  - {name: a, config: a/commcred.yaml, tags: [eu]}\n  - name: b\n    config: b.yaml\n    auth: {tenantIdEnv: B_T, clientIdEnv: B_C, federatedTokenFileEnv: B_F}\n",
        )
        .unwrap();
        assert!(ws.tenants[0].config.ends_with("a/commcred.yaml"));
        assert_eq!(
            ws.tenants[1]
                .auth
                .as_ref()
                .unwrap()
                .federated_token_file_env
                .as_deref(),
            Some("B_F")
        );
        assert_eq!(ws.select(&[], Some("eu")).unwrap().len(), 1);
        assert_eq!(ws.select(&["B".into()], None).unwrap()[0].name, "b");
        assert!(matches!(
            ws.select(&["c".into()], None),
            Err(WorkspaceError::Selection(_))
        ));
        assert!(matches!(
            ws.select(&[], Some("us")),
            Err(WorkspaceError::Selection(_))
        ));
    }

    #[test]
    fn problems_name_the_line_and_never_echo_a_pasted_secret() {
        let dup = load("apiVersion: commcred/v1\ntenants:\n  - {name: a, config: x}\n  - {name: A, config: y}\n")
            .unwrap_err();
        assert!(
            dup.to_string().contains(":4:") && dup.to_string().contains("twice"),
            "{dup}"
        );
        let pasted = load("apiVersion: commcred/v1\ntenants:\n  - name: a\n    config: x\n    auth: {tenantIdEnv: T, clientIdEnv: C, clientSecretEnv: 'Xy9~s3cretValue'}\n")
            .unwrap_err()
            .to_string();
        assert!(
            pasted.contains(":5:") && !pasted.contains("s3cretValue"),
            "{pasted}"
        );
        let two = load("apiVersion: commcred/v1\ntenants:\n  - name: a\n    config: x\n    auth: {tenantIdEnv: T, clientIdEnv: C, clientSecretEnv: S, federatedTokenFileEnv: F}\n")
            .unwrap_err();
        assert!(two.to_string().contains("2 ways"), "{two}");
        let unknown =
            load("apiVersion: commcred/v1\ntenants:\n  - {name: a, config: x, tag: [eu]}\n")
                .unwrap_err();
        assert!(
            matches!(unknown, WorkspaceError::Syntax { .. }),
            "{unknown}"
        );
    }
}
