//! The shape of the code: no function in `src/` longer than 80 lines unless the comment
//! above it says why (a line containing `Long:`), so that a long function is a decision,
//! not an accident.

const LIMIT: usize = 80;

/// `fn name` when `line` starts a function item, with its indentation.
fn fn_start(line: &str) -> Option<(&str, &str)> {
    let body = line.trim_start();
    let indent = &line[..line.len() - body.len()];
    let mut rest = body;
    for prefix in [
        "pub(crate) ",
        "pub(super) ",
        "pub ",
        "const ",
        "async ",
        "unsafe ",
    ] {
        rest = rest.strip_prefix(prefix).unwrap_or(rest);
    }
    let rest = rest.strip_prefix("fn ")?;
    let name = rest
        .split(|c: char| !(c.is_alphanumeric() || c == '_'))
        .next()?;
    Some((indent, name))
}

/// True when the comments and attributes right above line `at` give a reason.
fn has_reason(lines: &[&str], at: usize) -> bool {
    lines[..at]
        .iter()
        .rev()
        .map(|l| l.trim_start())
        .take_while(|l| l.starts_with("//") || l.starts_with("#["))
        .any(|l| l.contains("Long:"))
}

/// Functions longer than [`LIMIT`] lines without a reason: `path:line name (N lines)`.
fn long_functions(text: &str, path: &str) -> Vec<String> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    for (i, line) in lines.iter().enumerate() {
        let Some((indent, name)) = fn_start(line) else {
            continue;
        };
        // The signature ends at the first line ending in `{` (a body) or `;` (none).
        let Some(open) = (i..lines.len()).find(|&j| {
            let l = lines[j].trim_end();
            l.ends_with('{') || l.ends_with(';')
        }) else {
            continue;
        };
        if lines[open].trim_end().ends_with(';') {
            continue;
        }
        let close = format!("{indent}}}");
        let Some(end) = (open + 1..lines.len()).find(|&j| lines[j] == close) else {
            continue;
        };
        let length = end - i + 1;
        if length > LIMIT && !has_reason(&lines, i) {
            found.push(format!("{path}:{} {name} ({length} lines)", i + 1));
        }
    }
    found
}

#[test]
fn no_function_is_long_without_a_reason() {
    let mut found = Vec::new();
    let sources = crate::common::source_roots();
    for path in sources
        .iter()
        .flat_map(|dir| crate::common::rust_sources(dir))
    {
        let text = std::fs::read_to_string(&path).unwrap();
        found.extend(long_functions(&text, &path.display().to_string()));
    }
    assert!(
        found.is_empty(),
        "functions over {LIMIT} lines: split them, or say why above them (`// Long: …`):\n  {}",
        found.join("\n  ")
    );
}

#[test]
fn the_length_check_counts_bodies_and_honours_reasons() {
    let body = "    x();\n".repeat(LIMIT);
    let text = format!(
        "pub fn short() {{\n    x();\n}}\n\nfn long(a: u8,\n        b: u8) {{\n{body}}}\n\n\
         impl A {{\n    // Long: one table, row by row.\n    #[inline]\n    pub(crate) async fn \
         table() {{\n{body}    }}\n\n    fn nested() {{\n{body}    }}\n}}\n"
    );
    let found = long_functions(&text, "x.rs");
    assert_eq!(found.len(), 2, "{found:?}");
    assert!(found[0].starts_with("x.rs:5 long ("), "{found:?}");
    assert!(found[1].contains(" nested ("), "{found:?}");
}
