//! `profiles` and `users`: inline users and CSV sources, in written order, each UPN once.

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use miette::SourceSpan;

use super::{Site, Walker, phones};
use crate::base::licenses::LicenseName;
use crate::base::phone::NumberType;
use crate::config::checks;
use crate::config::csv_source::{self, Cell, CsvRow};
use crate::config::diagnostics::{Code, Problem, SourceFile};
use crate::config::fields::{self, Cx, Fields};
use crate::config::model::*;
use crate::config::node::{Node, Value};

const USER_KEYS: &[&str] = &[
    "upn",
    "usageLocation",
    "profile",
    "licenses",
    "phoneNumber",
    "numberType",
];
const CSV_ENTRY_KEYS: &[&str] = &["csv", "profile", "usageLocation", "licenses", "numberType"];

impl Walker<'_, '_> {
    /// `profilesFrom: FILE`: the profiles of a shared base file (its `profiles:` map, path
    /// relative to this YAML), read before this file's own `profiles:`, whose entries
    /// replace a base profile of the same name. Problems in the base file are reported
    /// with its own file, line and column.
    pub(super) fn profiles_from(&mut self, node: &Node) {
        let example = "profilesFrom: ../baseline.yaml";
        let Some(relative) = fields::string(&mut self.cx, node, "profilesFrom", example) else {
            return;
        };
        let path = self.base.join(relative);
        let report = |cx: &mut Cx<'_>, what: String| {
            let problem = cx
                .problem(Code::ProfilesFrom, node, what, "the shared profiles file")
                .help(
                    "point profilesFrom at a YAML file holding a `profiles:` map, relative to this file",
                );
            cx.report(problem);
        };
        let bytes = match (self.read)(&path) {
            Ok(bytes) => bytes,
            Err(e) => return report(&mut self.cx, format!("cannot read {}: {e}", path.display())),
        };
        let Ok(text) = String::from_utf8(bytes) else {
            return report(
                &mut self.cx,
                format!("{} is not UTF-8 text", path.display()),
            );
        };
        let base = SourceFile::new(&path, text);
        let root = match super::super::parse::parse_yaml(&base) {
            Ok(root) => root,
            Err(problem) => return self.cx.report(problem),
        };
        let mut no_csv = |_: &Path| -> std::io::Result<Vec<u8>> {
            Err(std::io::Error::other("a profiles file names no CSV"))
        };
        let mut walker = Walker {
            cx: Cx::new(&base),
            base: self.base.clone(),
            read: &mut no_csv,
            profiles: HashMap::new(),
            profile_names: Vec::new(),
            seen: HashMap::new(),
            seen_numbers: HashMap::new(),
            users: Vec::new(),
        };
        let name = path.file_name().unwrap_or_default().to_string_lossy();
        if let Some(fields) = Fields::open(
            &mut walker.cx,
            &root,
            &name,
            &["apiVersion", "profiles"],
            "profiles: {dial-out: [audioConferencing]}",
        ) && let Some(profiles) = fields.require(
            &mut walker.cx,
            "profiles",
            "profiles: {dial-out: [audioConferencing]}",
        ) {
            walker.profiles(profiles);
        }
        let (names, profiles) = (walker.profile_names, walker.profiles);
        for problem in walker.cx.into_problems() {
            self.cx.report(problem);
        }
        for name in names {
            if let Some(licenses) = profiles.get(&name) {
                self.profile_names.push(name.clone());
                self.profiles.insert(name, licenses.clone());
            }
        }
    }

    pub(super) fn profiles(&mut self, node: &Node) {
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
                            format!(
                                "unknown license `{}`",
                                crate::base::source_window::shorten(name)
                            ),
                            "unknown license",
                        )
                        .help(help);
                    self.cx.report(problem);
                }
            }
        }
        licenses
    }

    pub(super) fn users(&mut self, node: &Node) {
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
        let phone = self.yaml_phone(&fields);
        if let (Some(upn), Some(node)) = (upn, upn_node) {
            let origin = self.origin_yaml(node);
            self.users.push(DesiredUser {
                upn,
                usage_location,
                licenses: licenses.into_iter().collect(),
                origin,
                phone,
            });
        }
    }

    /// An inline user's `phoneNumber` and `numberType`.
    fn yaml_phone(&mut self, fields: &Fields) -> Option<Box<DesiredNumber>> {
        let yaml = self.cx.yaml.clone();
        let number_node = fields.get("phoneNumber");
        let number = number_node.and_then(|node| {
            let text = fields::text(
                &mut self.cx,
                node,
                "phoneNumber",
                "phoneNumber: \"+14255550100\"",
            )?;
            self.phone_number(&yaml, node.span, &text)
        });
        let number_type = fields.get("numberType").and_then(|node| {
            if number_node.is_none() {
                self.type_without_number(&yaml, node.span);
                return None;
            }
            let text = fields::string(
                &mut self.cx,
                node,
                "numberType",
                "numberType: directRouting",
            )?;
            self.number_type(&yaml, node.span, text)
        });
        let origin = number_node.map(|node| self.origin_yaml(node))?;
        phones::desired_number(number, number_type, origin)
    }

    /// Checks a UPN written in the YAML and that it is listed once.
    fn yaml_upn(&mut self, node: &Node, upn: &str) -> Option<String> {
        let yaml = self.cx.yaml.clone();
        self.upn(&yaml, node.span, upn)
    }

    /// Checks a UPN (in the YAML or a CSV) and that it is listed once.
    fn upn(&mut self, file: &SourceFile, span: SourceSpan, upn: &str) -> Option<String> {
        if let Some(why) = checks::upn_length_problem(upn) {
            self.cx.report(
                Problem::new(
                    Code::UpnTooLong,
                    format!("`{upn}` is longer than a user principal name can be: {why}"),
                )
                .at(file, span, "UPN too long")
                .help(format!(
                    "Entra ID allows at most {} characters, {} before the `@` and {} after it: write the user's sign-in name, e.g. `alice@contoso.com`",
                    checks::UPN_MAX,
                    checks::UPN_LOCAL_MAX,
                    checks::UPN_DOMAIN_MAX
                )),
            );
            return None;
        }
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

    pub(super) fn yaml_country(&mut self, node: &Node, key: &str) -> Option<String> {
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

    pub(super) fn yaml_profile(&mut self, node: &Node) -> BTreeSet<LicenseName> {
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
        let yaml = self.cx.yaml.clone();
        let default_type = fields.get("numberType").and_then(|node| {
            let text = fields::string(
                &mut self.cx,
                node,
                "numberType",
                "numberType: directRouting",
            )?;
            self.number_type(&yaml, node.span, text)
        });
        let defaults = RowDefaults {
            licenses: &default_licenses,
            usage_location: default_usage_location.as_deref(),
            own: &default_own,
            number_type: default_type,
        };

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
            self.csv_row(&file, row, &defaults);
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

    fn csv_row(&mut self, file: &SourceFile, row: &CsvRow, defaults: &RowDefaults) {
        let default_licenses = defaults.licenses;
        let default_usage_location = defaults.usage_location;
        let default_own = defaults.own;
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
        let phone = self.csv_phone(file, row, defaults.number_type);
        if let (Some(upn), Some(cell)) = (upn, &row.upn) {
            self.users.push(DesiredUser {
                upn,
                usage_location,
                licenses: licenses.into_iter().collect(),
                origin: row_origin(file, row, cell),
                phone,
            });
        }
    }

    /// A CSV row's `phoneNumber` and `numberType` (the entry's `numberType` by default).
    fn csv_phone(
        &mut self,
        file: &SourceFile,
        row: &CsvRow,
        default_type: Option<NumberType>,
    ) -> Option<Box<DesiredNumber>> {
        let number = row
            .phone_number
            .as_ref()
            .and_then(|cell| self.phone_number(file, cell.span, &cell.text));
        let number_type = match (&row.number_type, &row.phone_number) {
            (Some(cell), None) => {
                self.type_without_number(file, cell.span);
                None
            }
            (Some(cell), Some(_)) => self.number_type(file, cell.span, &cell.text),
            (None, _) => default_type,
        };
        let origin = row
            .phone_number
            .as_ref()
            .map(|cell| row_origin(file, row, cell))?;
        phones::desired_number(number, number_type, origin)
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
                        format!(
                            "unknown license `{}`",
                            crate::base::source_window::shorten(&name.text)
                        ),
                    )
                    .at(file, name.span, "unknown license")
                    .help(help),
                ),
            }
        }
        licenses
    }
}

/// What a CSV source gives rows that leave a cell empty.
struct RowDefaults<'d> {
    licenses: &'d BTreeSet<LicenseName>,
    usage_location: Option<&'d str>,
    own: &'d BTreeSet<LicenseName>,
    number_type: Option<NumberType>,
}

/// Where a cell of a CSV row is. Rows start at the start of a line, so this is cheap
/// (unlike `line_column`, which rescans the file).
fn row_origin(file: &SourceFile, row: &CsvRow, cell: &Cell) -> Origin {
    let before = &file.text()[row.start.offset()..cell.span.offset()];
    Origin {
        file: file.shared_path(),
        line: row.line + before.matches('\n').count(),
        column: before.rsplit('\n').next().unwrap_or("").chars().count() + 1,
    }
}
