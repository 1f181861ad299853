//! `prices: FILE`: the admin's price list, a YAML file of its own, validated like
//! commcred.yaml (every problem, located in the price file, with a code and a help line).
//!
//! ```yaml
//! currency: USD
//! asOf: 2026-11-01
//! skus:
//!   MCOEV: 10.00                              # monthly price per seat
//!   MCOPSTN1: {monthly: 12.00, term: annual}  # term: monthly (default) or annual
//! ```
//!
//! Whether the tenant has each SKU is known only at plan time (a warning then).

use std::collections::HashMap;
use std::path::Path;

use miette::SourceSpan;

use super::Walker;
use crate::base::licenses::LicenseName;
use crate::config::checks;
use crate::config::diagnostics::{Code, Problem, SourceFile};
use crate::config::fields::{self, Cx, Fields};
use crate::config::model::{Origin, PriceList, SkuPrice, Term};
use crate::config::node::{Node, Value};
use crate::config::parse::parse_yaml;

const PRICE_KEYS: &[&str] = &["currency", "asOf", "skus"];
const ENTRY_KEYS: &[&str] = &["monthly", "term"];
const TERMS: &[&str] = &["monthly", "annual"];

impl Walker<'_, '_> {
    /// `prices: FILE` in commcred.yaml: reads and validates the price file. Its problems
    /// are listed where `prices:` is written, each pointing into the price file.
    pub(super) fn prices(&mut self, key: &Node, node: &Node) -> Option<PriceList> {
        const EXAMPLE: &str = "prices: prices.yaml";
        let relative = fields::string(&mut self.cx, node, "prices", EXAMPLE)?;
        if relative.trim().is_empty() {
            self.cx.wrong_type(node, "prices", "a file path", EXAMPLE);
            return None;
        }
        let path = self.base.join(relative);
        let file = self.read_price_file(node, &path)?;
        let anchor = key.span.offset();
        let (list, problems) = price_list(&file);
        let saved = self.cx.csv_anchor.replace(anchor);
        for problem in problems {
            self.cx.report(problem);
        }
        self.cx.csv_anchor = saved;
        list
    }

    fn read_price_file(&mut self, node: &Node, path: &Path) -> Option<SourceFile> {
        let bytes = match (self.read)(path) {
            Ok(bytes) => bytes,
            Err(error) => {
                let problem = self
                    .cx
                    .problem(
                        Code::PricesUnreadable,
                        node,
                        format!("cannot read the price list {}: {error}", path.display()),
                        "cannot read this file",
                    )
                    .help(format!(
                        "check the path; it is relative to the folder of {} (examples/prices/prices.yaml is a sample)",
                        self.cx.yaml.path().display()
                    ));
                self.cx.report(problem);
                return None;
            }
        };
        match String::from_utf8(bytes) {
            Ok(text) => Some(SourceFile::new(path, text)),
            Err(_) => {
                let problem = self
                    .cx
                    .problem(
                        Code::NotUtf8,
                        node,
                        format!("the price list {} is not UTF-8 text", path.display()),
                        "not UTF-8",
                    )
                    .help("save the file as UTF-8");
                self.cx.report(problem);
                None
            }
        }
    }
}

/// Validates a price file on its own: the list when it has no problem, and every problem.
fn price_list(file: &SourceFile) -> (Option<PriceList>, Vec<Problem>) {
    let root = match parse_yaml(file) {
        Ok(root) => root,
        Err(problem) => return (None, vec![problem]),
    };
    let mut cx = Cx::new(file);
    let list = walk(&mut cx, file, &root);
    if cx.has_problems() {
        return (None, cx.into_problems());
    }
    (list, Vec::new())
}

fn walk(cx: &mut Cx, file: &SourceFile, root: &Node) -> Option<PriceList> {
    let name = file
        .path()
        .file_name()
        .unwrap_or(file.path().as_os_str())
        .to_string_lossy()
        .into_owned();
    let fields = Fields::open(cx, root, &name, PRICE_KEYS, "currency: USD")?;
    let currency = fields
        .require(cx, "currency", "currency: USD")
        .and_then(|node| fields::currency(cx, node));
    let money = currency.as_ref().map(|(c, d)| (c.as_str(), *d));
    let as_of = fields.get("asOf").and_then(|node| as_of(cx, node));
    let skus = fields
        .require(cx, "skus", "skus: {MCOEV: 10.00}")
        .and_then(|node| skus(cx, node, money))
        .unwrap_or_default();
    Some(PriceList {
        path: file.path().to_path_buf(),
        currency: currency?.0,
        as_of,
        skus,
    })
}

/// `asOf: 2026-11-01`: the date the prices were read from the agreement.
fn as_of(cx: &mut Cx, node: &Node) -> Option<chrono::NaiveDate> {
    let text = node.scalar_text();
    let date = text.and_then(|t| chrono::NaiveDate::parse_from_str(t.trim(), "%Y-%m-%d").ok());
    if date.is_none() {
        let problem = cx
            .problem(
                Code::InvalidDate,
                node,
                format!(
                    "`asOf` is not a date: `{}`",
                    text.unwrap_or(node.value.kind())
                ),
                "expected YYYY-MM-DD",
            )
            .help(
                "write the date the prices were read from the agreement, e.g. `asOf: 2026-11-01`",
            );
        cx.report(problem);
    }
    date
}

/// `skus:`: part number -> price, or -> `{monthly, term}`. Each part number once.
fn skus(cx: &mut Cx, node: &Node, money: Option<(&str, u32)>) -> Option<Vec<SkuPrice>> {
    let entries = match &node.value {
        Value::Map(entries) => entries,
        Value::Null => return Some(Vec::new()),
        _ => {
            cx.wrong_type(
                node,
                "skus",
                "a map of part numbers to prices",
                "skus: {MCOEV: 10.00}",
            );
            return None;
        }
    };
    let mut out = Vec::with_capacity(entries.len());
    // Upper-cased part number -> where it was first written.
    let mut seen: HashMap<String, SourceSpan> = HashMap::new();
    for (key, value) in entries {
        let Some(part) = part_number(cx, key) else {
            continue;
        };
        if let Some(first) = seen.get(&part.to_ascii_uppercase()) {
            let problem = cx
                .problem(
                    Code::DuplicatePrice,
                    key,
                    format!("`{part}` has a price twice (part numbers are compared without case)"),
                    "second price",
                )
                .also(*first, "first price")
                .help("keep one price per SKU");
            cx.report(problem);
            continue;
        }
        seen.insert(part.to_ascii_uppercase(), key.span);
        if let Some((monthly, term)) = price(cx, &part, value, money) {
            out.push(SkuPrice {
                part_number: part,
                monthly,
                term,
                origin: Origin {
                    file: cx.yaml.shared_path(),
                    line: key.line,
                    column: key.column,
                },
            });
        }
    }
    Some(out)
}

/// A key of `skus`: a SKU part number as the tenant lists it. A friendly name is refused:
/// the price is for what the agreement sells, and one name may stand for several SKUs.
fn part_number(cx: &mut Cx, key: &Node) -> Option<String> {
    let Some(text) = key.scalar_text() else {
        cx.wrong_type(key, "a key of `skus`", "a SKU part number", "MCOEV: 10.00");
        return None;
    };
    match LicenseName::classify(text) {
        Some(LicenseName::PartNumber(p)) => Some(p),
        found => {
            let help = match found {
                Some(LicenseName::Friendly(f)) => format!(
                    "prices are per SKU: write the part number `{f}` stands for in your tenant (`commcred licenses --tenant` lists them, e.g. MCOEV for phoneSystem)"
                ),
                _ => "write the SKU part number as `subscribedSkus` lists it, e.g. `MCOEV`, `MCOPSTN1`".to_string(),
            };
            let problem = cx
                .problem(
                    Code::PriceNotPartNumber,
                    key,
                    format!("`{text}` is not a SKU part number"),
                    "not a part number",
                )
                .help(help);
            cx.report(problem);
            None
        }
    }
}

/// `10.00` or `{monthly: 10.00, term: annual}`.
fn price(
    cx: &mut Cx,
    part: &str,
    node: &Node,
    money: Option<(&str, u32)>,
) -> Option<(rust_decimal::Decimal, Term)> {
    if node.scalar_text().is_some() {
        return fields::amount(cx, node, part, money).map(|a| (a, Term::Monthly));
    }
    let example = "MCOPSTN1: {monthly: 12.00, term: annual}";
    if !matches!(node.value, Value::Map(_)) {
        cx.wrong_type(node, part, "a monthly price or a map", example);
        return None;
    }
    let fields = Fields::open(cx, node, &format!("`{part}`"), ENTRY_KEYS, example)?;
    let monthly = fields
        .require(cx, "monthly", "monthly: 12.00")
        .and_then(|n| fields::amount(cx, n, "monthly", money));
    let term = match fields.get("term") {
        None => Some(Term::Monthly),
        Some(n) => term(cx, n),
    };
    Some((monthly?, term?))
}

fn term(cx: &mut Cx, node: &Node) -> Option<Term> {
    match node.scalar_text() {
        Some("monthly") => Some(Term::Monthly),
        Some("annual") => Some(Term::Annual),
        other => {
            let text = other.unwrap_or(node.value.kind());
            let problem = cx
                .problem(
                    Code::InvalidTerm,
                    node,
                    format!("`term` must be `monthly` or `annual`, found `{text}`"),
                    "unknown term",
                )
                .help(checks::did_you_mean(text, TERMS));
            cx.report(problem);
            None
        }
    }
}
