//! YAML text -> [`Node`] tree, with the parser's own errors (syntax, duplicate keys, budgets)
//! turned into located diagnostics.

use miette::SourceSpan;
use serde_saphyr::budget::{Budget, BudgetBreach};
use serde_saphyr::{DuplicateKeyPolicy, Error, Options, Spanned};

use super::diagnostics::{Code, Problem, SourceFile};
use super::node::{Node, RawValue};

/// Parser settings. The limits are sized for a config with 100,000 inline users (about a
/// dozen events and nodes each) while cutting off alias bombs ("billion laughs") after a few
/// thousand replayed events, i.e. within milliseconds.
fn options() -> Options {
    // `Budget` is non-exhaustive: start from the defaults and adjust.
    let mut budget = Budget::default();
    budget.max_events = 5_000_000;
    budget.max_nodes = 3_000_000;
    budget.max_depth = 32;
    budget.max_documents = 1;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    let mut options = serde_saphyr::options! {
        budget: Some(budget),
        duplicate_keys: DuplicateKeyPolicy::Error,
        // YAML 1.2 booleans only: `NO` is Norway, not `false`.
        strict_booleans: true,
        // We render our own snippets with miette.
        with_snippet: false,
    };
    options.alias_limits.max_total_replayed_events = 10_000;
    options.alias_limits.max_replay_stack_depth = 16;
    options.alias_limits.max_alias_expansions_per_anchor = 1_000;
    options
}

/// Parses the YAML document of `file`.
pub fn parse_yaml(file: &SourceFile) -> Result<Node, Problem> {
    let text = file.text();
    match serde_saphyr::from_str_with_options::<Spanned<RawValue>>(text, options()) {
        Ok(raw) => Ok(Node::from_raw(raw, text)),
        Err(error) => Err(parser_problem(file, &error)),
    }
}

fn parser_problem(file: &SourceFile, error: &Error) -> Problem {
    let span = error_span(file, error);
    let (line, column) = file.line_column(span.offset());
    let cause = innermost(error);
    match cause {
        Error::DuplicateMappingKey { key, .. } => {
            let key = key.as_deref().unwrap_or("?");
            Problem::new(Code::DuplicateKey, format!("duplicate key `{key}`"))
                .at(file, span, "written a second time here")
                .help(format!(
                    "a key may appear once per map: remove or merge the second `{key}` \
                     (line {line}, column {column})"
                ))
        }
        // A second `---` document trips the one-document budget; it is a syntax matter.
        Error::Budget {
            breach: BudgetBreach::Documents { .. },
            ..
        }
        | Error::MultipleDocuments { .. } => {
            Problem::new(Code::Syntax, "the file holds more than one YAML document")
                .at(file, span, "second document starts here")
                .help(
                    "keep a single document: remove the second `---` and what follows, or merge it",
                )
        }
        Error::Budget { .. }
        | Error::AliasReplayLimitExceeded { .. }
        | Error::AliasExpansionLimitExceeded { .. }
        | Error::AliasReplayStackDepthExceeded { .. }
        | Error::AliasReplayCounterOverflow { .. } => Problem::new(
            Code::BudgetExceeded,
            format!(
                "the YAML is too large or expands too much: {}",
                message(cause)
            ),
        )
        .at(file, span, "limit reached here")
        .help(
            "write the values out instead of nesting aliases (`*name`); commcred limits \
             alias expansion so that a small file cannot expand into billions of nodes",
        ),
        _ => Problem::new(Code::Syntax, format!("invalid YAML: {}", message(cause)))
            .at(file, span, "here")
            .help("fix the YAML syntax at this line (check indentation, `:` and quotes)"),
    }
}

/// Alias errors wrap the real cause; the cause says what happened.
fn innermost(error: &Error) -> &Error {
    match error {
        Error::AliasError { error, .. } => innermost(error),
        Error::WithSnippet { error, .. } => innermost(error),
        other => other,
    }
}

/// The parser's message without its own " at line X, column Y" suffix (miette shows that).
fn message(error: &Error) -> String {
    let text = error.to_string();
    match text.find(" at line ") {
        Some(i) => text[..i].to_string(),
        None => text,
    }
}

/// Where the error is, as a byte span. Syntax errors carry only line and column.
fn error_span(file: &SourceFile, error: &Error) -> SourceSpan {
    let Some(location) = error.location() else {
        return SourceSpan::new(0.into(), 0);
    };
    let span = location.span();
    match (span.byte_offset(), span.byte_len()) {
        (Some(offset), Some(len)) => {
            let offset = (offset as usize).min(file.text().len());
            let len = (len as usize).min(file.text().len() - offset);
            SourceSpan::new(offset.into(), len)
        }
        _ => {
            let offset = file.offset_of(location.line() as usize, location.column() as usize);
            // One character wide, so the label has something to point at.
            let len = file.text()[offset..]
                .chars()
                .next()
                .filter(|c| *c != '\n')
                .map_or(0, char::len_utf8);
            SourceSpan::new(offset.into(), len)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn parse(text: &str) -> Result<Node, Problem> {
        parse_yaml(&SourceFile::new(Path::new("t.yaml"), text.to_string()))
    }

    #[test]
    fn duplicate_key_is_located() {
        let p = parse("a: 1\nb: 2\na: 3\n").unwrap_err();
        assert_eq!(p.code(), Some(Code::DuplicateKey));
        assert_eq!(p.line_column(), Some((3, 1)));
    }

    #[test]
    fn syntax_error_is_located() {
        let p = parse("a: b: c\n").unwrap_err();
        assert_eq!(p.code(), Some(Code::Syntax));
        assert_eq!(p.line_column(), Some((1, 5)));
        assert!(!p.message().contains("at line"), "{}", p.message());
    }

    #[test]
    fn a_second_document_is_a_syntax_error() {
        let p = parse("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(p.code(), Some(Code::Syntax));
        assert_eq!(p.line_column(), Some((2, 1)));
    }

    #[test]
    fn billion_laughs_is_rejected_quickly() {
        let mut text = String::from("a: &a [x,x,x,x,x,x,x,x,x]\n");
        for level in 1..9u8 {
            let prev = (b'a' + level - 1) as char;
            let this = (b'a' + level) as char;
            let refs = vec![format!("*{prev}"); 9].join(",");
            text.push_str(&format!("{this}: &{this} [{refs}]\n"));
        }
        let p = parse(&text).unwrap_err();
        assert_eq!(p.code(), Some(Code::BudgetExceeded));
        assert!(p.line_column().is_some());
    }

    #[test]
    fn norway_is_a_string() {
        let node = parse("x: NO\ny: true\n").unwrap();
        let map = node.as_map().unwrap();
        assert_eq!(
            map[0].1.value,
            super::super::node::Value::String("NO".into())
        );
        assert_eq!(map[1].1.value, super::super::node::Value::Bool(true));
    }

    /// The budget must fit 100,000 inline users: measure 1,000 and scale up (parsing the
    /// full size is a benchmark, see benches/plan.rs, not a unit test).
    #[test]
    fn budget_fits_a_hundred_thousand_users() {
        let mut yaml =
            String::from("apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\nusers:\n");
        for i in 0..1_000 {
            yaml.push_str(&format!(
                "  - upn: user{i}@contoso.com\n    usageLocation: US\n    profile: p\n    \
                 licenses: [audioConferencing, communicationsCredits]\n"
            ));
        }
        let report = std::rc::Rc::new(std::cell::RefCell::new(None));
        let sink = report.clone();
        let opts = options().with_budget_report(move |r| *sink.borrow_mut() = Some(r));
        serde_saphyr::from_str_with_options::<Spanned<RawValue>>(&yaml, opts).unwrap();
        let report = report.borrow_mut().take().unwrap();
        let budget = options().budget.unwrap();
        assert!(report.events * 100 < budget.max_events, "{report:?}");
        assert!(report.nodes * 100 < budget.max_nodes, "{report:?}");
        assert!(report.total_scalar_bytes * 100 < budget.max_total_scalar_bytes);
    }
}
