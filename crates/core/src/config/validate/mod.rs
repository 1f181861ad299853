//! Walks the YAML [`Node`] tree (and the CSV files it names) into a [`DesiredState`],
//! reporting every problem found rather than stopping at the first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use miette::SourceSpan;

use super::checks;
use super::diagnostics::{Code, Problem, SourceFile};
use super::fields::{self, Cx, Fields};
use super::model::*;
use super::node::{Node, Value};
use crate::base::licenses::LicenseName;

mod credits;
mod groups;
mod phones;
mod prices;
mod users;

pub const API_VERSION: &str = "commcred/v1";

const ROOT_KEYS: &[&str] = &[
    "apiVersion",
    "tenant",
    "backend",
    "defaultUsageLocation",
    "billingAccount",
    "communicationsCredits",
    "profilesFrom",
    "profiles",
    "users",
    "groups",
    "prefer",
    "prune",
    "prices",
];
const BACKEND_KEYS: &[&str] = &["file", "graph"];

/// The result of a successful walk: the desired state (without its digest, which the
/// loader computes) and the profiles, for summaries.
pub struct Walked {
    pub desired: DesiredState,
    pub profiles: BTreeMap<String, BTreeSet<LicenseName>>,
}

/// Reads a file named by the YAML (a CSV source), relative paths already resolved.
pub type ReadFile<'r> = &'r mut dyn FnMut(&Path) -> io::Result<Vec<u8>>;

pub fn walk(yaml: &SourceFile, root: &Node, read: ReadFile) -> Result<Walked, Vec<Problem>> {
    let mut walker = Walker {
        cx: Cx::new(yaml),
        base: yaml.path().parent().unwrap_or(Path::new("")).to_path_buf(),
        read,
        profiles: HashMap::new(),
        profile_names: Vec::new(),
        seen: HashMap::new(),
        seen_numbers: HashMap::new(),
        users: Vec::new(),
    };
    let desired = walker.root(root);
    if walker.cx.has_problems() {
        return Err(walker.cx.into_problems());
    }
    let desired = desired.expect("a walk without problems yields a desired state");
    let profiles = walker.profiles.into_iter().collect();
    Ok(Walked { desired, profiles })
}

/// Where a user was first listed, for "listed twice" problems.
struct Site {
    file: SourceFile,
    span: SourceSpan,
}

struct Walker<'f, 'r> {
    cx: Cx<'f>,
    /// The YAML's folder: relative paths in the YAML are relative to it.
    base: PathBuf,
    read: ReadFile<'r>,
    profiles: HashMap<String, BTreeSet<LicenseName>>,
    /// Profile names in written order, for suggestions.
    profile_names: Vec<String>,
    /// Lower-cased UPN -> where it was first listed.
    seen: HashMap<String, Site>,
    /// E.164 number -> where it was first declared, for "declared for two users".
    seen_numbers: HashMap<String, Site>,
    users: Vec<DesiredUser>,
}

impl Walker<'_, '_> {
    // Long: one pass over the top-level keys in the order the file declares them; the
    // billing account (issue 19) and the price list (issue 23) each added a key here.
    fn root(&mut self, root: &Node) -> Option<DesiredState> {
        // Messages name the file as the user named it ("commcred.yaml needs `tenant`").
        let yaml = self.cx.yaml.path();
        let name = yaml
            .file_name()
            .unwrap_or(yaml.as_os_str())
            .to_string_lossy();
        let fields = Fields::open(
            &mut self.cx,
            root,
            &name,
            ROOT_KEYS,
            "apiVersion: commcred/v1",
        )?;
        let cx = &mut self.cx;

        if let Some(node) = fields.require(cx, "apiVersion", "apiVersion: commcred/v1")
            && let Some(version) = fields::string(cx, node, "apiVersion", "apiVersion: commcred/v1")
            && version != API_VERSION
        {
            let problem = cx
                .problem(
                    Code::ApiVersion,
                    node,
                    format!("unsupported apiVersion `{version}`"),
                    "unsupported version",
                )
                .help(format!(
                    "set `apiVersion: {API_VERSION}`, the version this commcred reads"
                ));
            cx.report(problem);
        }

        let tenant_node = fields.require(cx, "tenant", "tenant: contoso.onmicrosoft.com");
        let tenant_origin = tenant_node.map(|node| self.origin_yaml(node));
        let tenant = tenant_node.and_then(|node| self.tenant(node));
        let backend = fields.entry("backend").and_then(|(_, v)| self.backend(v));
        let default_usage_location = fields
            .get("defaultUsageLocation")
            .and_then(|node| self.yaml_country(node, "defaultUsageLocation"));
        let billing_account = fields
            .get("billingAccount")
            .and_then(|node| self.billing_account(node));
        let credits = fields
            .entry("communicationsCredits")
            .filter(|(_, v)| v.value != Value::Null)
            .and_then(|(k, v)| credits::credits(&mut self.cx, k, v));
        if let Some(node) = fields.get("profilesFrom") {
            self.profiles_from(node);
        }
        if let Some(node) = fields.get("profiles") {
            self.profiles(node);
        }
        if let Some(node) = fields.get("users") {
            self.users(node);
        }
        let groups = DesiredGroups {
            list: fields
                .get("groups")
                .map(|node| self.groups(node))
                .unwrap_or_default(),
            prefer_groups: fields.get("prefer").is_some_and(|node| self.prefer(node)),
        };
        let prices = fields
            .entry("prices")
            .filter(|(_, v)| v.value != Value::Null)
            .and_then(|(k, v)| self.prices(k, v));
        let prune = fields
            .get("prune")
            .and_then(|node| fields::boolean(&mut self.cx, node, "prune"))
            .unwrap_or(false);

        Some(DesiredState {
            config_path: self.cx.yaml.path().to_path_buf(),
            digest: String::new(),
            tenant: tenant?,
            tenant_origin,
            backend,
            default_usage_location,
            billing_account,
            credits,
            users: std::mem::take(&mut self.users),
            prune,
            groups,
            prices,
        })
    }

    /// `billingAccount: MOSA | MCA | CSP` (case-insensitive), as the Microsoft 365 admin
    /// center's Billing accounts page names the account type.
    fn billing_account(&mut self, node: &Node) -> Option<DeclaredBilling> {
        const EXAMPLE: &str = "billingAccount: MCA";
        let origin = self.origin_yaml(node);
        let cx = &mut self.cx;
        let text = fields::string(cx, node, "billingAccount", EXAMPLE)?;
        let kind = match text.to_ascii_uppercase().as_str() {
            "MOSA" => crate::tenant::BillingAccountType::Mosa,
            "MCA" => crate::tenant::BillingAccountType::Mca,
            "CSP" => crate::tenant::BillingAccountType::Csp,
            _ => {
                let problem = cx
                    .problem(
                        Code::InvalidBillingAccount,
                        node,
                        format!("`{text}` is not a billing account type"),
                        "unknown billing account type",
                    )
                    .help(format!(
                        "{}: MOSA (bought online or with an Enterprise Agreement: prepaid Communications Credits), MCA (Microsoft Customer Agreement: billed after use) or CSP (through a partner: partner overage)",
                        checks::did_you_mean(text, &["MOSA", "MCA", "CSP"])
                    ));
                cx.report(problem);
                return None;
            }
        };
        Some(DeclaredBilling { kind, origin })
    }

    fn tenant(&mut self, node: &Node) -> Option<String> {
        let cx = &mut self.cx;
        let tenant = fields::string(cx, node, "tenant", "tenant: contoso.onmicrosoft.com")?;
        if let Some(why) = checks::domain_problem(tenant) {
            let problem = cx
                .problem(
                    Code::InvalidTenant,
                    node,
                    format!("`{tenant}` is not a domain name: {why}"),
                    "not a domain name",
                )
                .help("use the tenant's initial domain, e.g. `contoso.onmicrosoft.com`");
            cx.report(problem);
            return None;
        }
        Some(tenant.to_string())
    }

    /// `backend: {file: PATH}`, `backend: {graph: URL | true | null}`, or the `--backend`
    /// text form (`file:PATH`, `graph`, `graph:URL`).
    fn backend(&mut self, node: &Node) -> Option<BackendSpec> {
        const EXAMPLE: &str = "backend: {file: tenant.json}";
        if let Value::String(text) = &node.value {
            return match BackendSpec::parse(text) {
                Ok(BackendSpec::File(path)) => Some(BackendSpec::File(self.base.join(path))),
                Ok(spec) => Some(spec),
                Err(why) => {
                    self.invalid_backend(node, why);
                    None
                }
            };
        }
        let fields = Fields::open(&mut self.cx, node, "`backend`", BACKEND_KEYS, EXAMPLE)?;
        match (fields.entry("file"), fields.entry("graph")) {
            (Some(_), Some((graph_key, _))) => {
                let problem = self
                    .cx
                    .problem(
                        Code::InvalidBackend,
                        graph_key,
                        "`backend` has both `file` and `graph`",
                        "second backend",
                    )
                    .help("keep one: `file: tenant.json` or `graph: true`");
                self.cx.report(problem);
                None
            }
            (None, None) => {
                self.invalid_backend(node, "`backend` needs `file` or `graph`".into());
                None
            }
            (Some((_, path)), None) => {
                let text = fields::string(&mut self.cx, path, "file", "file: tenant.json")?;
                if text.is_empty() {
                    self.invalid_backend(path, "`file` is empty".into());
                    return None;
                }
                Some(BackendSpec::File(self.base.join(text)))
            }
            (None, Some((_, graph))) => match &graph.value {
                Value::Null | Value::Bool(true) => Some(BackendSpec::Graph(None)),
                Value::String(url) => match BackendSpec::parse(&format!("graph:{url}")) {
                    Ok(spec) => Some(spec),
                    Err(why) => {
                        self.invalid_backend(graph, why);
                        None
                    }
                },
                _ => {
                    self.invalid_backend(
                        graph,
                        format!(
                            "`graph` must be `true` or a URL, found {}",
                            graph.value.kind()
                        ),
                    );
                    None
                }
            },
        }
    }

    fn invalid_backend(&mut self, node: &Node, why: String) {
        let problem = self
            .cx
            .problem(Code::InvalidBackend, node, why, "invalid backend")
            .help(
                "write `file: tenant.json` (a snapshot, relative to this YAML), `graph: true` \
                 (Microsoft Graph) or `graph: http://127.0.0.1:PORT` (an emulator)",
            );
        self.cx.report(problem);
    }

    fn origin_yaml(&self, node: &Node) -> Origin {
        Origin {
            file: self.cx.yaml.shared_path(),
            line: node.line,
            column: node.column,
        }
    }
}
