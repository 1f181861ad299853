//! The entry point: read `commcred.yaml` (and its CSV files), parse, validate, digest.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use miette::SourceSpan;
use sha2::{Digest, Sha256};

use super::diagnostics::{Code, ConfigError, Problem, SourceFile};
use super::model::DesiredState;
use super::parse::parse_yaml;
use super::validate::walk;
use crate::base::licenses::LicenseName;

/// A loaded config with what the summary of `commcred validate` needs beyond the state.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadedConfig {
    pub desired: DesiredState,
    /// The `profiles` section: name -> licenses.
    pub profiles: BTreeMap<String, BTreeSet<LicenseName>>,
}

/// Loads and validates `path`: every problem in the YAML and its CSV files is reported.
pub fn load(path: &Path) -> Result<DesiredState, ConfigError> {
    load_config(path).map(|loaded| loaded.desired)
}

/// [`load`], also returning the profiles.
pub fn load_config(path: &Path) -> Result<LoadedConfig, ConfigError> {
    let bytes = std::fs::read(path).map_err(|source| ConfigError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    load_bytes(path, bytes, &mut |csv: &Path| std::fs::read(csv))
}

/// Validates YAML `bytes` as if read from `path`; `read` supplies the CSV files (their paths
/// resolved against `path`'s folder). For tests and callers that hold the text already.
pub fn load_bytes(
    path: &Path,
    bytes: Vec<u8>,
    read: &mut dyn FnMut(&Path) -> io::Result<Vec<u8>>,
) -> Result<LoadedConfig, ConfigError> {
    let invalid = |problems: Vec<Problem>| ConfigError::Invalid {
        path: path.to_path_buf(),
        problems,
    };
    // The digest covers exactly the bytes read: the YAML, then each CSV in order.
    let mut digest = Sha256::new();
    digest.update(&bytes);

    let text = match String::from_utf8(bytes) {
        Ok(text) => text,
        Err(error) => return Err(invalid(vec![not_utf8(path, error)])),
    };
    let yaml = SourceFile::new(path, text);
    let root = parse_yaml(&yaml).map_err(|problem| invalid(vec![problem]))?;

    let mut hashing_read = |csv: &Path| {
        let bytes = read(csv)?;
        digest.update(&bytes);
        Ok(bytes)
    };
    let walked = walk(&yaml, &root, &mut hashing_read).map_err(invalid)?;
    let mut desired = walked.desired;
    desired.digest = hex::encode(digest.finalize());
    Ok(LoadedConfig {
        desired,
        profiles: walked.profiles,
    })
}

fn not_utf8(path: &Path, error: std::string::FromUtf8Error) -> Problem {
    let at = error.utf8_error().valid_up_to();
    let text = String::from_utf8_lossy(error.as_bytes()).into_owned();
    // In the lossy text, the bad byte became U+FFFD at the same offset.
    let file = SourceFile::new(&PathBuf::from(path), text);
    Problem::new(Code::NotUtf8, "the file is not UTF-8 text")
        .at(&file, SourceSpan::new(at.into(), 1), "not UTF-8")
        .help("save the file as UTF-8")
}
