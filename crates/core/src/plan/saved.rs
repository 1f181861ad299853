//! Saved plans (`commcred plan --out PLAN`, `commcred apply PLAN`, `commcred show PLAN`).
//!
//! A saved plan is the JSON document of [`super::document`] plus what is needed to apply
//! exactly what was reviewed, later and elsewhere (a CI job after merge):
//! - `format_version`, so an incompatible reader refuses instead of guessing;
//! - the backend it was planned against, in `--backend` syntax and without credentials;
//! - a SHA-256 checksum of the canonical body, so a plan edited after review is refused.
//!   It detects edits, it is not a signature: whoever can write the file can recompute it.
//!
//! Pure apart from [`SavedPlan::read`]: no clock, no network.

use std::path::{Path, PathBuf};

use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::config::BackendSpec;

use super::Plan;
pub use super::document::FORMAT_VERSION;
use super::document::{PlanDocument, document, plan_from_document};

/// A plan with what `apply PLAN` needs beyond the changes themselves.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedPlan {
    pub plan: Plan,
    /// Where to apply unless `--backend` overrides it.
    pub backend: BackendSpec,
    /// commcred.yaml as given to `plan`, for people reading the plan.
    pub config_path: String,
    /// The commcred version that wrote the plan.
    pub commcred_version: String,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum PlanFileError {
    #[error("cannot read the plan file {}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::plan_file::read),
        help("check the path; plans are written by `commcred plan --out PLAN`")
    )]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("{path} is not a commcred plan: {message}")]
    #[diagnostic(
        code(commcred::plan_file::not_a_plan),
        help(
            "write a plan with `commcred plan CONFIG --out PLAN`; a truncated download or a file of another tool cannot be applied"
        )
    )]
    NotAPlan { path: String, message: String },

    #[error(
        "{path} is a plan in format {found}, written by commcred {writer}; this commcred ({ours}) reads format {FORMAT_VERSION}"
    )]
    #[diagnostic(
        code(commcred::plan_file::unsupported_version),
        help(
            "apply it with the commcred version that wrote it, or run `commcred plan --out PLAN` again with this one"
        )
    )]
    UnsupportedVersion {
        path: String,
        found: String,
        writer: String,
        ours: String,
    },

    #[error("the plan file was modified after it was written: {path} {detail}")]
    #[diagnostic(
        code(commcred::plan_file::modified),
        help(
            "a saved plan is applied exactly as reviewed, so it cannot be edited: change commcred.yaml and run `commcred plan --out PLAN` again"
        )
    )]
    Modified { path: String, detail: String },

    #[error("{path} is not a valid commcred plan: {message}")]
    #[diagnostic(
        code(commcred::plan_file::invalid),
        help(
            "the checksum matches, so the file was written this way: run `commcred plan --out PLAN` again with this commcred"
        )
    )]
    Invalid { path: String, message: String },
}

impl SavedPlan {
    /// The document, pretty-printed with a final newline, checksum filled in. This is both
    /// the saved plan and the `--format json` output.
    pub fn to_json(&self) -> String {
        let mut text =
            serde_json::to_string_pretty(&self.document()).expect("plan documents serialize");
        text.push('\n');
        text
    }

    /// The document with its checksum.
    pub fn document(&self) -> PlanDocument {
        let mut doc = document(
            &self.plan,
            &backend_to_string(&self.backend),
            &self.config_path,
            &self.commcred_version,
        );
        let value = serde_json::to_value(&doc).expect("plan documents serialize");
        doc.checksum = checksum(&value);
        doc
    }

    /// Reads and verifies a saved plan: JSON, a supported `format_version`, an intact
    /// checksum, and a body commcred could have written.
    pub fn read(path: &Path) -> Result<SavedPlan, PlanFileError> {
        let text = std::fs::read_to_string(path).map_err(|source| PlanFileError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        SavedPlan::parse(&text, &path.display().to_string())
    }

    /// [`SavedPlan::read`] on text; `path` only names the file in errors.
    pub fn parse(text: &str, path: &str) -> Result<SavedPlan, PlanFileError> {
        let path = path.to_string();
        // A byte-order mark (Windows tools add one when re-saving) is not content.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let value: Value = serde_json::from_str(text).map_err(|e| PlanFileError::NotAPlan {
            path: path.clone(),
            message: format!("not JSON (line {}, column {}): {e}", e.line(), e.column()),
        })?;
        let Some(obj) = value.as_object() else {
            return Err(PlanFileError::NotAPlan {
                path,
                message: "the JSON is not an object".into(),
            });
        };
        let Some(found) = obj.get("format_version").and_then(Value::as_str) else {
            return Err(PlanFileError::NotAPlan {
                path,
                message: "it has no `format_version`".into(),
            });
        };
        if !version_supported(found) {
            return Err(PlanFileError::UnsupportedVersion {
                path,
                found: found.to_string(),
                writer: obj
                    .get("commcred_version")
                    .and_then(Value::as_str)
                    .unwrap_or("(unknown)")
                    .to_string(),
                ours: env!("CARGO_PKG_VERSION").to_string(),
            });
        }
        let Some(stored) = obj.get("checksum").and_then(Value::as_str) else {
            return Err(PlanFileError::Modified {
                path,
                detail: "(its `checksum` is missing)".into(),
            });
        };
        if stored != checksum(&value) {
            return Err(PlanFileError::Modified {
                path,
                detail: "(its content no longer matches its checksum)".into(),
            });
        }
        let doc: PlanDocument =
            serde_json::from_value(value).map_err(|e| PlanFileError::Invalid {
                path: path.clone(),
                message: e.to_string(),
            })?;
        let invalid = |message: String| PlanFileError::Invalid {
            path: path.clone(),
            message,
        };
        let backend = BackendSpec::parse(&doc.backend)
            .map_err(|e| invalid(format!("its backend `{}`: {e}", doc.backend)))?;
        let plan = plan_from_document(&doc).map_err(invalid)?;
        Ok(SavedPlan {
            plan,
            backend,
            config_path: doc.config.path,
            commcred_version: doc.commcred_version,
        })
    }
}

/// True when `bytes` look like a saved plan rather than a commcred.yaml: a JSON object
/// with a `format_version`. A YAML config never has that key, and a damaged plan still
/// counts as a plan, so that it is reported as a broken plan, not as bad YAML.
pub fn looks_like_plan(bytes: &[u8]) -> bool {
    let text = String::from_utf8_lossy(bytes);
    text.trim_start_matches('\u{feff}')
        .trim_start()
        .starts_with('{')
        && text.contains("\"format_version\"")
}

fn version_supported(found: &str) -> bool {
    let parse = |v: &str| -> Option<(u32, u32)> {
        let (major, minor) = v.split_once('.')?;
        Some((major.parse().ok()?, minor.parse().ok()?))
    };
    match (parse(found), parse(FORMAT_VERSION)) {
        (Some((major, minor)), Some((our_major, our_minor))) => {
            major == our_major && minor <= our_minor
        }
        _ => false,
    }
}

/// `sha256:` + hex SHA-256 of the canonical form of `doc` without its `checksum` member.
///
/// Canonical form is RFC 8785 (JCS): object members sorted by name, no whitespace. For the
/// values a plan holds (strings, integers, booleans, null; no floats) serde_json's compact
/// output with sorted keys is exactly JCS, so other tools can verify a plan, and
/// re-indenting or reordering the file does not break it while changing any value does.
/// A plan's identity (the ledger keys confirmations by it): the SHA-256, in hex, of the
/// plan's canonical document (tenant, time of planning, config digest, every change and
/// what it observed), without what only says where it was made or is applied (backend,
/// config path, commcred version). So a plan applied straight from the YAML and the same
/// plan saved, read back and applied have the same id, and applying it twice records
/// nothing the second time.
pub fn plan_id(plan: &Plan) -> String {
    let doc = document(plan, "", "", "");
    let value = serde_json::to_value(&doc).expect("plan documents serialize");
    checksum(&value).trim_start_matches("sha256:").to_string()
}

pub fn checksum(doc: &Value) -> String {
    let mut body = doc.clone();
    if let Some(obj) = body.as_object_mut() {
        obj.remove("checksum");
    }
    let canonical = serde_json::to_string(&canonicalize(body)).expect("JSON values serialize");
    format!(
        "sha256:{}",
        hex::encode(Sha256::digest(canonical.as_bytes()))
    )
}

fn canonicalize(value: Value) -> Value {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Value::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, canonicalize(v)))
                    .collect(),
            )
        }
        Value::Array(items) => Value::Array(items.into_iter().map(canonicalize).collect()),
        other => other,
    }
}

/// A backend in `--backend` syntax, with anything secret-looking removed from a Graph URL
/// (user info, query, fragment): a plan is an artifact that many people can read.
pub fn backend_to_string(spec: &BackendSpec) -> String {
    match spec {
        BackendSpec::File(path) => format!("file:{}", path.display()),
        BackendSpec::Graph(None) => "graph".to_string(),
        BackendSpec::Graph(Some(url)) => format!("graph:{}", redact_url(url)),
    }
}

fn redact_url(url: &str) -> String {
    let url = url.split(['?', '#']).next().unwrap_or_default();
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let (authority, path) = match rest.find('/') {
                Some(i) => rest.split_at(i),
                None => (rest, ""),
            };
            let host = authority.rsplit('@').next().unwrap_or(authority);
            format!("{scheme}://{host}{path}")
        }
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests;
