//! Walks the YAML [`Node`] tree (and the CSV files it names) into a [`DesiredState`],
//! reporting every problem found rather than stopping at the first.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use miette::SourceSpan;
use rust_decimal::Decimal;

use super::checks;
use super::csv_source::{self, Cell, CsvRow};
use super::diagnostics::{Code, Problem, SourceFile};
use super::fields::{self, Cx, Fields};
use super::model::*;
use super::node::{Node, Value};
use crate::licenses::LicenseName;
use crate::tenant::PaymentMethod;

pub const API_VERSION: &str = "commcred/v1";

const ROOT_KEYS: &[&str] = &[
    "apiVersion",
    "tenant",
    "backend",
    "defaultUsageLocation",
    "communicationsCredits",
    "profiles",
    "users",
    "prune",
];
const BACKEND_KEYS: &[&str] = &["file", "graph"];
const CREDITS_KEYS: &[&str] = &["currency", "minimumBalance", "autoRecharge", "payment"];
const AUTO_RECHARGE_KEYS: &[&str] = &["enabled", "triggerBelow", "rechargeAmount"];
const PAYMENT_KEYS: &[&str] = &["method", "agreementNumber", "purchaseOrder"];
const PAYMENT_METHODS: &[&str] = &["creditCard", "enterpriseAgreement"];
const USER_KEYS: &[&str] = &["upn", "usageLocation", "profile", "licenses"];
const CSV_ENTRY_KEYS: &[&str] = &["csv", "profile", "usageLocation", "licenses"];

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
    users: Vec<DesiredUser>,
}

impl Walker<'_, '_> {
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

        let tenant = fields
            .require(cx, "tenant", "tenant: contoso.onmicrosoft.com")
            .and_then(|node| self.tenant(node));
        let backend = fields.entry("backend").and_then(|(_, v)| self.backend(v));
        let default_usage_location = fields
            .get("defaultUsageLocation")
            .and_then(|node| self.yaml_country(node, "defaultUsageLocation"));
        let credits = fields
            .entry("communicationsCredits")
            .filter(|(_, v)| v.value != Value::Null)
            .and_then(|(k, v)| self.credits(k, v));
        if let Some(node) = fields.get("profiles") {
            self.profiles(node);
        }
        if let Some(node) = fields.get("users") {
            self.users(node);
        }
        let prune = fields
            .get("prune")
            .and_then(|node| fields::boolean(&mut self.cx, node, "prune"))
            .unwrap_or(false);

        Some(DesiredState {
            config_path: self.cx.yaml.path().to_path_buf(),
            digest: String::new(),
            tenant: tenant?,
            backend,
            default_usage_location,
            credits,
            users: std::mem::take(&mut self.users),
            prune,
        })
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

    fn credits(&mut self, key: &Node, node: &Node) -> Option<DesiredCredits> {
        let example = "communicationsCredits: {currency: USD, minimumBalance: 100.00}";
        let fields = Fields::open(
            &mut self.cx,
            node,
            "`communicationsCredits`",
            CREDITS_KEYS,
            example,
        )?
        .owned_by(key.span);
        let cx = &mut self.cx;

        let currency = fields
            .require(cx, "currency", "currency: USD")
            .and_then(|node| {
                let code = fields::string(cx, node, "currency", "currency: USD")?;
                match checks::currency(code) {
                    Ok(decimals) => Some((code.to_string(), decimals)),
                    Err(help) => {
                        let problem = cx
                            .problem(
                                Code::InvalidCurrency,
                                node,
                                format!("`{code}` is not an ISO 4217 currency code"),
                                "unknown currency",
                            )
                            .help(help);
                        cx.report(problem);
                        None
                    }
                }
            });
        let money = currency.as_ref().map(|(c, d)| (c.as_str(), *d));

        let minimum_balance = fields
            .get("minimumBalance")
            .and_then(|node| fields::amount(cx, node, "minimumBalance", money));
        let auto_recharge = fields
            .entry("autoRecharge")
            .filter(|(_, v)| v.value != Value::Null)
            .and_then(|(k, v)| auto_recharge(cx, k, v, money));
        let payment = fields
            .entry("payment")
            .filter(|(_, v)| v.value != Value::Null)
            .and_then(|(k, v)| payment(cx, k, v));

        Some(DesiredCredits {
            currency: currency?.0,
            minimum_balance,
            auto_recharge,
            payment,
            origin: self.origin_yaml(key),
        })
    }

    fn profiles(&mut self, node: &Node) {
        let Some(entries) = node.as_map() else {
            self.cx.wrong_type(
                node,
                "profiles",
                "a map of profile names to license lists",
                "profiles: {dial-out: [audioConferencing, communicationsCredits]}",
            );
            return;
        };
        for (key, value) in entries {
            let Some(name) = key.scalar_text() else {
                self.cx.wrong_type(
                    key,
                    "profile name",
                    "a name",
                    "dial-out: [audioConferencing]",
                );
                continue;
            };
            // A profile with a bad license is still defined, so that users naming it do not
            // get a second, misleading "unknown profile".
            let licenses = match &value.value {
                Value::Null => BTreeSet::new(),
                _ => self.license_list(value, name),
            };
            self.profile_names.push(name.to_string());
            self.profiles.insert(name.to_string(), licenses);
        }
    }

    /// A YAML list of license names; unknown names are reported and skipped.
    fn license_list(&mut self, node: &Node, key: &str) -> BTreeSet<LicenseName> {
        let mut licenses = BTreeSet::new();
        let example = format!("{key}: [audioConferencing, communicationsCredits]");
        let Some(items) = fields::list(&mut self.cx, node, key, &example) else {
            return licenses;
        };
        for item in items {
            let Some(name) = fields::string(&mut self.cx, item, "license", &example) else {
                continue;
            };
            match checks::license(name) {
                Ok(license) => {
                    licenses.insert(license);
                }
                Err(help) => {
                    let problem = self
                        .cx
                        .problem(
                            Code::UnknownLicense,
                            item,
                            format!("unknown license `{name}`"),
                            "unknown license",
                        )
                        .help(help);
                    self.cx.report(problem);
                }
            }
        }
        licenses
    }

    fn users(&mut self, node: &Node) {
        let example = "users: [{upn: alice@contoso.com, profile: dial-out}]";
        let Some(items) = fields::list(&mut self.cx, node, "users", example) else {
            return;
        };
        self.users.reserve(items.len());
        for item in items {
            let is_csv = item
                .as_map()
                .is_some_and(|entries| entries.iter().any(|(k, _)| k.scalar_text() == Some("csv")));
            if is_csv {
                self.csv_source(item);
            } else {
                self.inline_user(item);
            }
        }
    }

    fn inline_user(&mut self, node: &Node) {
        let example = "- upn: alice@contoso.com";
        let Some(fields) = Fields::open(&mut self.cx, node, "a user", USER_KEYS, example) else {
            return;
        };
        if fields.get("upn").is_none() {
            let problem = self
                .cx
                .problem(
                    Code::MissingKey,
                    node,
                    "a user needs `upn`",
                    "neither `upn` nor `csv`",
                )
                .help(
                    "each item of `users` is an inline user (`upn: alice@contoso.com`) or a \
                     CSV source (`csv: users.csv`)",
                );
            self.cx.report(problem);
        }
        let upn_node = fields.get("upn");
        let upn = upn_node.and_then(|node| {
            let upn = fields::string(&mut self.cx, node, "upn", "upn: alice@contoso.com")?;
            self.yaml_upn(node, upn)
        });
        let usage_location = fields
            .get("usageLocation")
            .and_then(|node| self.yaml_country(node, "usageLocation"));
        let mut licenses = fields
            .get("profile")
            .map(|node| self.yaml_profile(node))
            .unwrap_or_default();
        if let Some(node) = fields.get("licenses") {
            licenses.extend(self.license_list(node, "licenses"));
        }
        if let (Some(upn), Some(node)) = (upn, upn_node) {
            let origin = self.origin_yaml(node);
            self.users.push(DesiredUser {
                upn,
                usage_location,
                licenses,
                origin,
            });
        }
    }

    /// Checks a UPN written in the YAML and that it is listed once.
    fn yaml_upn(&mut self, node: &Node, upn: &str) -> Option<String> {
        let yaml = self.cx.yaml.clone();
        self.upn(&yaml, node.span, upn)
    }

    /// Checks a UPN (in the YAML or a CSV) and that it is listed once.
    fn upn(&mut self, file: &SourceFile, span: SourceSpan, upn: &str) -> Option<String> {
        if let Some(why) = checks::upn_problem(upn) {
            self.cx.report(
                Problem::new(
                    Code::InvalidUpn,
                    format!("`{upn}` is not a user principal name: {why}"),
                )
                .at(file, span, "invalid UPN")
                .help("write the user's sign-in name, e.g. `alice@contoso.com`"),
            );
            return None;
        }
        let key = upn.to_lowercase();
        if let Some(first) = self.seen.get(&key) {
            let (line, column) = first.file.line_column(first.span.offset());
            let first_place = format!("{}:{line}:{column}", first.file.path().display());
            let mut problem = Problem::new(
                Code::DuplicateUser,
                format!("user `{upn}` is listed twice"),
            )
            .at(file, span, "listed again here")
            .help(format!(
                "list each user once (UPNs are compared without case); it is first listed at \
                 {first_place}: merge the two entries"
            ));
            problem = if first.file.path() == file.path() {
                problem.also(first.span, "first listed here")
            } else {
                problem.with_related(Problem::note(
                    format!("`{upn}` is first listed here"),
                    &first.file,
                    first.span,
                ))
            };
            self.cx.report(problem);
            return None;
        }
        self.seen.insert(
            key,
            Site {
                file: file.clone(),
                span,
            },
        );
        Some(upn.to_string())
    }

    fn yaml_country(&mut self, node: &Node, key: &str) -> Option<String> {
        let code = fields::string(&mut self.cx, node, key, &format!("{key}: US"))?;
        let yaml = self.cx.yaml.clone();
        self.country(&yaml, node.span, code)
    }

    fn country(&mut self, file: &SourceFile, span: SourceSpan, code: &str) -> Option<String> {
        match checks::country(code) {
            Ok(()) => Some(code.to_string()),
            Err(help) => {
                self.cx.report(
                    Problem::new(
                        Code::InvalidUsageLocation,
                        format!("`{code}` is not an ISO 3166-1 alpha-2 country code"),
                    )
                    .at(file, span, "not a country code")
                    .help(help),
                );
                None
            }
        }
    }

    fn yaml_profile(&mut self, node: &Node) -> BTreeSet<LicenseName> {
        let Some(name) = fields::string(&mut self.cx, node, "profile", "profile: dial-out") else {
            return BTreeSet::new();
        };
        let yaml = self.cx.yaml.clone();
        self.profile(&yaml, node.span, name).unwrap_or_default()
    }

    /// The licenses of profile `name`, or a problem in `file` at `span`.
    fn profile(
        &mut self,
        file: &SourceFile,
        span: SourceSpan,
        name: &str,
    ) -> Option<BTreeSet<LicenseName>> {
        if let Some(licenses) = self.profiles.get(name) {
            return Some(licenses.clone());
        }
        let names: Vec<&str> = self.profile_names.iter().map(String::as_str).collect();
        let define = format!("define `{name}` under `profiles:`");
        let help = match checks::closest(name, names.iter().copied()) {
            Some(best) => format!("did you mean `{best}`? Or {define}"),
            None if names.is_empty() => {
                format!("{define}, e.g. `profiles: {{{name}: [audioConferencing]}}`")
            }
            None => format!("{define}; the profiles are {}", checks::quoted_list(&names)),
        };
        self.cx.report(
            Problem::new(Code::UnknownProfile, format!("unknown profile `{name}`"))
                .at(file, span, "not defined under `profiles`")
                .help(help),
        );
        None
    }

    /// A `csv:` item: reads the CSV and adds its rows as users, in place.
    fn csv_source(&mut self, node: &Node) {
        let example = "- csv: users.csv";
        // `upn` is allowed here only to explain that it does not belong.
        let mut allowed = CSV_ENTRY_KEYS.to_vec();
        allowed.push("upn");
        let Some(fields) = Fields::open(&mut self.cx, node, "a CSV source", &allowed, example)
        else {
            return;
        };
        if let Some((upn_key, _)) = fields.entry("upn") {
            let problem = self
                .cx
                .problem(
                    Code::InvalidUserEntry,
                    upn_key,
                    "an item of `users` has both `upn` and `csv`",
                    "`upn` in a CSV source",
                )
                .help("split it in two items: an inline user (`upn`) and a CSV source (`csv`)");
            self.cx.report(problem);
        }
        let Some((csv_key, path_node)) = fields.entry("csv") else {
            return;
        };
        let Some(relative) = fields::string(&mut self.cx, path_node, "csv", "csv: users.csv")
        else {
            return;
        };

        // Defaults for rows that leave a cell empty.
        let default_licenses = fields
            .get("profile")
            .map(|node| self.yaml_profile(node))
            .unwrap_or_default();
        let default_usage_location = fields
            .get("usageLocation")
            .and_then(|node| self.yaml_country(node, "usageLocation"));
        let default_own = fields
            .get("licenses")
            .map(|node| self.license_list(node, "licenses"))
            .unwrap_or_default();

        let path = self.base.join(relative);
        let Some(file) = self.read_csv(path_node, &path) else {
            return;
        };
        self.cx.csv_anchor = Some(csv_key.span.offset());
        let (rows, problems) = csv_source::parse(&file);
        for problem in problems {
            self.cx.report(problem);
        }
        for row in &rows {
            self.csv_row(
                &file,
                row,
                &default_licenses,
                default_usage_location.as_deref(),
                &default_own,
            );
        }
        self.cx.csv_anchor = None;
    }

    fn read_csv(&mut self, path_node: &Node, path: &Path) -> Option<SourceFile> {
        let bytes = match (self.read)(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                let problem = self
                    .cx
                    .problem(
                        Code::CsvUnreadable,
                        path_node,
                        format!("cannot read CSV file {}: {error}", path.display()),
                        "cannot read this file",
                    )
                    .help(format!(
                        "check the path; it is relative to the folder of {}",
                        self.cx.yaml.path().display()
                    ));
                self.cx.report(problem);
                return None;
            }
        };
        match csv_source::decode(&bytes) {
            Some(text) => Some(SourceFile::new(path, text)),
            None => {
                let problem = self
                    .cx
                    .problem(
                        Code::NotUtf8,
                        path_node,
                        format!("CSV file {} is not UTF-8 text", path.display()),
                        "not UTF-8",
                    )
                    .help("save the file as UTF-8 (in Excel: \"CSV UTF-8\")");
                self.cx.report(problem);
                None
            }
        }
    }

    fn csv_row(
        &mut self,
        file: &SourceFile,
        row: &CsvRow,
        default_licenses: &BTreeSet<LicenseName>,
        default_usage_location: Option<&str>,
        default_own: &BTreeSet<LicenseName>,
    ) {
        let upn = match &row.upn {
            Some(cell) => self.upn(file, cell.span, &cell.text),
            None => {
                self.cx.report(
                    Problem::new(Code::CsvMissingUpn, "this CSV row has no `upn`")
                        .at(file, row.start, "row without upn")
                        .help("fill in the user's UPN, or delete the row"),
                );
                None
            }
        };
        let usage_location = match &row.usage_location {
            Some(cell) => self.country(file, cell.span, &cell.text),
            None => default_usage_location.map(str::to_string),
        };
        let mut licenses = match &row.profile {
            Some(cell) => self
                .profile(file, cell.span, &cell.text)
                .unwrap_or_default(),
            None => default_licenses.clone(),
        };
        match &row.licenses {
            Some(cell) => licenses.extend(self.csv_licenses(file, cell)),
            None => licenses.extend(default_own.iter().cloned()),
        }
        if let (Some(upn), Some(cell)) = (upn, &row.upn) {
            // Rows start at the start of a line, so this is cheap (unlike `line_column`).
            let before = &file.text()[row.start.offset()..cell.span.offset()];
            let column = before.chars().count() + 1;
            self.users.push(DesiredUser {
                upn,
                usage_location,
                licenses,
                origin: Origin {
                    file: file.path().to_path_buf(),
                    line: row.line,
                    column,
                },
            });
        }
    }

    fn csv_licenses(&mut self, file: &SourceFile, cell: &Cell) -> BTreeSet<LicenseName> {
        let mut licenses = BTreeSet::new();
        for name in csv_source::split_licenses(file, cell) {
            match checks::license(&name.text) {
                Ok(license) => {
                    licenses.insert(license);
                }
                Err(help) => self.cx.report(
                    Problem::new(
                        Code::UnknownLicense,
                        format!("unknown license `{}`", name.text),
                    )
                    .at(file, name.span, "unknown license")
                    .help(help),
                ),
            }
        }
        licenses
    }

    fn origin_yaml(&self, node: &Node) -> Origin {
        Origin {
            file: self.cx.yaml.path().to_path_buf(),
            line: node.line,
            column: node.column,
        }
    }
}

fn auto_recharge(
    cx: &mut Cx,
    key: &Node,
    node: &Node,
    money: Option<(&str, u32)>,
) -> Option<DesiredAutoRecharge> {
    let example = "autoRecharge: {enabled: true, triggerBelow: 100.00, rechargeAmount: 250.00}";
    let fields =
        Fields::open(cx, node, "`autoRecharge`", AUTO_RECHARGE_KEYS, example)?.owned_by(key.span);
    let enabled_node = fields.require(cx, "enabled", "enabled: true");
    let enabled = enabled_node.and_then(|n| fields::boolean(cx, n, "enabled"));
    let trigger_below = fields
        .get("triggerBelow")
        .and_then(|n| fields::amount(cx, n, "triggerBelow", money));
    let recharge_amount = fields
        .get("rechargeAmount")
        .and_then(|n| fields::amount(cx, n, "rechargeAmount", money));

    if let (Some(true), Some(enabled_node)) = (enabled, enabled_node) {
        let missing: Vec<&str> = ["triggerBelow", "rechargeAmount"]
            .into_iter()
            .filter(|k| fields.get(k).is_none())
            .collect();
        if !missing.is_empty() {
            let problem = cx
                .problem(
                    Code::AutoRechargeIncomplete,
                    enabled_node,
                    format!(
                        "auto-recharge is enabled without {}",
                        checks::quoted_list(&missing).replace(", ", " and ")
                    ),
                    "enabled here",
                )
                .help(
                    "add `triggerBelow` (recharge when the balance is below it) and \
                     `rechargeAmount` (the amount to add), or set `enabled: false`",
                );
            cx.report(problem);
        }
        if let (Some(amount), Some(node)) = (recharge_amount, fields.get("rechargeAmount"))
            && amount == Decimal::ZERO
        {
            let problem = cx
                .problem(
                    Code::AmountNotPositive,
                    node,
                    "`rechargeAmount` must be more than zero when auto-recharge is enabled",
                    "zero",
                )
                .help("write the amount to add at each recharge, e.g. `250.00`");
            cx.report(problem);
        }
    }
    Some(DesiredAutoRecharge {
        enabled: enabled?,
        trigger_below,
        recharge_amount,
    })
}

fn payment(cx: &mut Cx, key: &Node, node: &Node) -> Option<DesiredPayment> {
    let example = "payment: {method: creditCard}";
    let fields = Fields::open(cx, node, "`payment`", PAYMENT_KEYS, example)?.owned_by(key.span);
    let method_node = fields.require(cx, "method", "method: creditCard")?;
    let agreement_number = fields
        .get("agreementNumber")
        .and_then(|n| fields::text(cx, n, "agreementNumber", "agreementNumber: \"62839471\""));
    let purchase_order = fields
        .get("purchaseOrder")
        .and_then(|n| fields::text(cx, n, "purchaseOrder", "purchaseOrder: \"PO-2026-114\""));
    let method = fields::string(cx, method_node, "method", "method: creditCard")?;
    let method = match method {
        "creditCard" => PaymentMethod::CreditCard,
        "enterpriseAgreement" => PaymentMethod::EnterpriseAgreement,
        other => {
            let problem = cx
                .problem(
                    Code::InvalidPaymentMethod,
                    method_node,
                    format!("unknown payment method `{other}`"),
                    "unknown method",
                )
                .help(checks::did_you_mean(other, PAYMENT_METHODS));
            cx.report(problem);
            return None;
        }
    };
    if method == PaymentMethod::EnterpriseAgreement && agreement_number.is_none() {
        let problem = cx
            .problem(
                Code::AgreementNumberRequired,
                method_node,
                "an Enterprise Agreement payment needs `agreementNumber`",
                "needs an agreement number",
            )
            .help("add `agreementNumber: \"12345678\"` (your EA enrollment number) to `payment`");
        cx.report(problem);
        return None;
    }
    Some(DesiredPayment {
        method,
        agreement_number,
        purchase_order,
    })
}
