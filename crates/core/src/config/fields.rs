//! Typed access to the [`Node`] tree that reports, instead of failing: a map's known keys,
//! strings, booleans, lists and exact amounts. Each accessor returns `None` after reporting
//! a problem, so the walker carries on and finds the next one.

use miette::SourceSpan;
use rust_decimal::Decimal;

use super::checks::did_you_mean;
use super::diagnostics::{Code, Problem, SourceFile};
use super::node::{Node, Value};
use crate::base::money::Amount;

/// The walk's context: the YAML file and the problems found so far.
pub struct Cx<'f> {
    pub yaml: &'f SourceFile,
    /// Problems with the YAML offset they sort by.
    problems: Vec<(usize, Problem)>,
    /// While a CSV source is read: the YAML offset of its `csv:` entry, so that the CSV's
    /// problems are listed where the CSV is used.
    pub csv_anchor: Option<usize>,
}

impl<'f> Cx<'f> {
    pub fn new(yaml: &'f SourceFile) -> Cx<'f> {
        Cx {
            yaml,
            problems: Vec::new(),
            csv_anchor: None,
        }
    }

    pub fn report(&mut self, problem: Problem) {
        let anchor = self.csv_anchor.or(problem.offset()).unwrap_or(0);
        self.problems.push((anchor, problem));
    }

    pub fn has_problems(&self) -> bool {
        !self.problems.is_empty()
    }

    /// Every problem in the order of the YAML (the walk visits keys by meaning, not by place).
    pub fn into_problems(mut self) -> Vec<Problem> {
        self.problems.sort_by_key(|(anchor, _)| *anchor);
        self.problems.into_iter().map(|(_, p)| p).collect()
    }

    /// A problem labelled on `node` in the YAML.
    pub fn problem(
        &self,
        code: Code,
        node: &Node,
        message: impl Into<String>,
        label: impl Into<String>,
    ) -> Problem {
        Problem::new(code, message).at(self.yaml, node.span, label)
    }

    pub fn wrong_type(&mut self, node: &Node, key: &str, expected: &str, example: &str) {
        let problem = self
            .problem(
                Code::WrongType,
                node,
                format!("`{key}` must be {expected}, found {}", node.value.kind()),
                format!("expected {expected}"),
            )
            .help(format!("write it like `{example}`"));
        self.report(problem);
    }
}

/// The entries of a YAML map whose keys have been checked against the allowed ones.
pub struct Fields<'n> {
    entries: &'n [(Node, Node)],
    /// What a "missing key" label points at: the map's own key when it has one.
    owner: SourceSpan,
    what: String,
}

impl<'n> Fields<'n> {
    /// Opens `node` as a map described as `what` (e.g. "`payment`"), reporting a non-map and
    /// every key not in `allowed`. A null counts as an empty map.
    pub fn open(
        cx: &mut Cx,
        node: &'n Node,
        what: &str,
        allowed: &[&str],
        example: &str,
    ) -> Option<Fields<'n>> {
        let entries: &'n [(Node, Node)] = match &node.value {
            Value::Map(entries) => entries,
            Value::Null => &[],
            _ => {
                let problem = cx
                    .problem(
                        Code::WrongType,
                        node,
                        format!("{what} must be a map, found {}", node.value.kind()),
                        "expected a map",
                    )
                    .help(format!("write it like `{example}`"));
                cx.report(problem);
                return None;
            }
        };
        for (key, _) in entries {
            match key.scalar_text() {
                Some(name) if allowed.contains(&name) => {}
                Some(name) => {
                    let problem = cx
                        .problem(
                            Code::UnknownKey,
                            key,
                            format!("unknown key `{name}` in {what}"),
                            "unknown key",
                        )
                        .help(did_you_mean(name, allowed));
                    cx.report(problem);
                }
                None => {
                    let problem = cx
                        .problem(
                            Code::WrongType,
                            key,
                            format!("a key in {what} must be a name, found {}", key.value.kind()),
                            "expected a name",
                        )
                        .help(format!(
                            "use one of: {}",
                            super::checks::quoted_list(allowed)
                        ));
                    cx.report(problem);
                }
            }
        }
        Some(Fields {
            entries,
            owner: node.span,
            what: what.to_string(),
        })
    }

    /// Points "missing key" problems at `span` (the key that holds this map).
    pub fn owned_by(mut self, span: SourceSpan) -> Self {
        self.owner = span;
        self
    }

    /// The key node and value of `key`, null values included.
    pub fn entry(&self, key: &str) -> Option<(&'n Node, &'n Node)> {
        self.entries
            .iter()
            .find(|(k, _)| k.scalar_text() == Some(key))
            .map(|(k, v)| (k, v))
    }

    /// The value of `key`; a null value counts as absent.
    pub fn get(&self, key: &str) -> Option<&'n Node> {
        self.entry(key)
            .map(|(_, v)| v)
            .filter(|v| v.value != Value::Null)
    }

    /// The value of a required `key`, reporting its absence.
    pub fn require(&self, cx: &mut Cx, key: &str, example: &str) -> Option<&'n Node> {
        let found = self.get(key);
        if found.is_none() {
            let problem = Problem::new(Code::MissingKey, format!("{} needs `{key}`", self.what))
                .at(cx.yaml, self.owner, format!("`{key}` is missing here"))
                .help(format!("add `{example}`"));
            cx.report(problem);
        }
        found
    }
}

/// A string. Numbers and booleans are refused: `tenant: 12` is a mistake, not a name.
pub fn string<'n>(cx: &mut Cx, node: &'n Node, key: &str, example: &str) -> Option<&'n str> {
    match &node.value {
        Value::String(s) => Some(s),
        _ => {
            cx.wrong_type(node, key, "a string", example);
            None
        }
    }
}

/// An identifier such as an agreement number: a string, or a number taken as written
/// (`agreementNumber: 62839471` means the text "62839471", leading zeros and all).
pub fn text(cx: &mut Cx, node: &Node, key: &str, example: &str) -> Option<String> {
    match &node.value {
        Value::String(s) | Value::Number(s) => Some(s.clone()),
        _ => {
            cx.wrong_type(node, key, "a string", example);
            None
        }
    }
}

/// `currency: USD`: an ISO 4217 code, with its number of decimals.
pub fn currency(cx: &mut Cx, node: &Node) -> Option<(String, u32)> {
    let code = string(cx, node, "currency", "currency: USD")?;
    match super::checks::currency(code) {
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
}

pub fn boolean(cx: &mut Cx, node: &Node, key: &str) -> Option<bool> {
    match node.value {
        Value::Bool(b) => Some(b),
        _ => {
            cx.wrong_type(node, key, "`true` or `false`", &format!("{key}: true"));
            None
        }
    }
}

pub fn list<'n>(cx: &mut Cx, node: &'n Node, key: &str, example: &str) -> Option<&'n [Node]> {
    match &node.value {
        Value::Seq(items) => Some(items),
        _ => {
            cx.wrong_type(node, key, "a list", example);
            None
        }
    }
}

/// An exact, non-negative amount with at most the currency's decimals (`decimals` is `None`
/// when the currency is unknown: then only the form and sign are checked).
pub fn amount(
    cx: &mut Cx,
    node: &Node,
    key: &str,
    currency: Option<(&str, u32)>,
) -> Option<Decimal> {
    let Some(text) = node.scalar_text() else {
        cx.wrong_type(node, key, "an amount", &format!("{key}: 100.00"));
        return None;
    };
    let amount = match Amount::parse(text) {
        Ok(amount) => amount,
        Err(_) => {
            let problem = cx
                .problem(
                    Code::InvalidAmount,
                    node,
                    format!("`{key}` is not an amount: `{text}`"),
                    "not a decimal number",
                )
                .help(
                    "write a plain decimal number such as `100.00`, without currency sign, \
                     exponent or thousands separators",
                );
            cx.report(problem);
            return None;
        }
    };
    if amount.0.is_sign_negative() && !amount.0.is_zero() {
        let problem = cx
            .problem(
                Code::NegativeAmount,
                node,
                format!("`{key}` cannot be negative: `{text}`"),
                "negative",
            )
            .help("write zero or a positive amount");
        cx.report(problem);
        return None;
    }
    if let Some((code, decimals)) = currency
        && amount.scale() > decimals
    {
        let help = if decimals == 0 {
            format!("{code} has no minor unit: write a whole number")
        } else {
            format!("write at most {decimals} decimal places, e.g. `{}`", {
                let mut example = amount.0.trunc_with_scale(decimals);
                example.rescale(decimals);
                example
            })
        };
        let problem = cx
            .problem(
                Code::TooManyDecimals,
                node,
                format!(
                    "`{key}` has {} decimal places, but {code} has {decimals}",
                    amount.scale()
                ),
                format!("more decimals than {code} allows"),
            )
            .help(help);
        cx.report(problem);
        return None;
    }
    Some(amount.0)
}
