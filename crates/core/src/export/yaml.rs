//! Writes a [`Document`] as `commcred.yaml` text, with comments, in the layout people write
//! by hand (block maps, flow lists of licenses, amounts unquoted and exact).
//!
//! A generic YAML serializer cannot write comments, keeps no control over quoting (`NO` is
//! Norway, `62839471` is text) and would print money through floats; this writer is small and
//! the tests read its output back with a YAML parser into the same `Document`.

use std::fmt::Write as _;

use crate::config::schema::{
    Backend, BackendMap, Credits, CsvSource, Document, GraphTarget, License, User, UserEntry,
};

/// Comment lines placed above parts of the document.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Comments {
    /// Lines after the modeline, before `apiVersion`.
    pub header: Vec<String>,
    pub credits: Vec<String>,
    pub users: Vec<String>,
}

/// The YAML text of `doc`, starting with the yaml-language-server modeline.
pub fn to_yaml(doc: &Document, schema_ref: &str, comments: &Comments) -> String {
    let mut out = String::with_capacity(256 + doc.users.len() * 64);
    let _ = writeln!(out, "# yaml-language-server: $schema={schema_ref}");
    comment_lines(&mut out, "", &comments.header);
    let _ = writeln!(out, "apiVersion: {}", crate::config::schema::API_VERSION);
    let _ = writeln!(out, "tenant: {}", scalar(&doc.tenant));
    if let Some(backend) = &doc.backend {
        write_backend(&mut out, backend);
    }
    if let Some(loc) = &doc.default_usage_location {
        let _ = writeln!(out, "defaultUsageLocation: {}", scalar(&loc.0));
    }
    if doc.communications_credits.is_some() || !comments.credits.is_empty() {
        out.push('\n');
        comment_lines(&mut out, "", &comments.credits);
    }
    if let Some(credits) = &doc.communications_credits {
        write_credits(&mut out, credits);
    }
    if !doc.profiles.is_empty() {
        out.push_str("\nprofiles:\n");
        for (name, licenses) in &doc.profiles {
            let _ = writeln!(out, "  {}: {}", scalar(name), flow_list(licenses));
        }
    }
    out.push('\n');
    comment_lines(&mut out, "", &comments.users);
    if doc.users.is_empty() {
        out.push_str("users: []\n");
    } else {
        out.push_str("users:\n");
        for entry in &doc.users {
            match entry {
                UserEntry::User(user) => write_user(&mut out, user),
                UserEntry::Csv(csv) => write_csv_source(&mut out, csv),
            }
        }
    }
    if !doc.groups.is_empty() {
        out.push_str("\ngroups:\n");
        for group in &doc.groups {
            write_group(&mut out, group);
        }
    }
    if let Some(prefer) = doc.prefer {
        let word = match prefer {
            crate::config::schema::Prefer::Groups => "groups",
            crate::config::schema::Prefer::Direct => "direct",
        };
        let _ = writeln!(out, "\nprefer: {word}");
    }
    let _ = writeln!(out, "\nprune: {}", doc.prune);
    out
}

fn write_group(out: &mut String, group: &crate::config::schema::GroupEntry) {
    use crate::config::schema::GroupLicense;
    match (&group.display_name, &group.id) {
        (Some(name), _) => {
            let _ = writeln!(out, "  - displayName: {}", scalar(name));
        }
        (None, Some(id)) => {
            let _ = writeln!(out, "  - id: {}", scalar(id));
        }
        (None, None) => return,
    }
    if let Some(profile) = &group.profile {
        let _ = writeln!(out, "    profile: {}", scalar(profile));
    }
    let items: Vec<String> = group
        .licenses
        .iter()
        .map(|l| match l {
            GroupLicense::Name(name) => scalar(&name.0),
            GroupLicense::WithPlans {
                license,
                disabled_plans,
            } => {
                let plans: Vec<String> = disabled_plans.iter().map(|p| scalar(p)).collect();
                format!(
                    "{{license: {}, disabledPlans: [{}]}}",
                    scalar(&license.0),
                    plans.join(", ")
                )
            }
        })
        .collect();
    let _ = writeln!(out, "    licenses: [{}]", items.join(", "));
}

fn comment_lines(out: &mut String, indent: &str, lines: &[String]) {
    for line in lines {
        if line.is_empty() {
            let _ = writeln!(out, "{indent}#");
        } else {
            let _ = writeln!(out, "{indent}# {line}");
        }
    }
}

fn write_backend(out: &mut String, backend: &Backend) {
    match backend {
        Backend::Text(text) => {
            let _ = writeln!(out, "backend: {}", scalar(text));
        }
        Backend::Map(BackendMap::File(path)) => {
            let _ = writeln!(out, "backend:\n  file: {}", scalar(path));
        }
        Backend::Map(BackendMap::Graph(GraphTarget::Microsoft)) => {
            out.push_str("backend:\n  graph: true\n");
        }
        Backend::Map(BackendMap::Graph(GraphTarget::Url(url))) => {
            let _ = writeln!(out, "backend:\n  graph: {}", scalar(url));
        }
    }
}

fn write_credits(out: &mut String, credits: &Credits) {
    out.push_str("communicationsCredits:\n");
    let _ = writeln!(out, "  currency: {}", scalar(&credits.currency.0));
    if let Some(min) = &credits.minimum_balance {
        let _ = writeln!(out, "  minimumBalance: {}", amount(&min.0));
    }
    if let Some(ar) = &credits.auto_recharge {
        let _ = writeln!(out, "  autoRecharge:\n    enabled: {}", ar.enabled);
        if let Some(a) = &ar.trigger_below {
            let _ = writeln!(out, "    triggerBelow: {}", amount(&a.0));
        }
        if let Some(a) = &ar.recharge_amount {
            let _ = writeln!(out, "    rechargeAmount: {}", amount(&a.0));
        }
    }
    if let Some(p) = &credits.payment {
        let method = match p.method {
            crate::config::schema::PaymentMethod::CreditCard => "creditCard",
            crate::config::schema::PaymentMethod::EnterpriseAgreement => "enterpriseAgreement",
        };
        let _ = writeln!(out, "  payment:\n    method: {method}");
        if let Some(n) = &p.agreement_number {
            let _ = writeln!(out, "    agreementNumber: {}", quoted(n));
        }
        if let Some(n) = &p.purchase_order {
            let _ = writeln!(out, "    purchaseOrder: {}", quoted(n));
        }
    }
}

fn write_user(out: &mut String, user: &User) {
    let _ = writeln!(out, "  - upn: {}", scalar(&user.upn));
    if let Some(loc) = &user.usage_location {
        let _ = writeln!(out, "    usageLocation: {}", scalar(&loc.0));
    }
    if let Some(profile) = &user.profile {
        let _ = writeln!(out, "    profile: {}", scalar(profile));
    }
    if let Some(licenses) = &user.licenses {
        let _ = writeln!(out, "    licenses: {}", flow_list(licenses));
    }
    if let Some(number) = &user.phone_number {
        let _ = writeln!(out, "    phoneNumber: {}", quoted(number));
    }
    if let Some(kind) = &user.number_type {
        let _ = writeln!(out, "    numberType: {}", number_type(*kind));
    }
}

fn number_type(kind: crate::config::schema::NumberTypeName) -> &'static str {
    use crate::config::schema::NumberTypeName;
    match kind {
        NumberTypeName::CallingPlan => "callingPlan",
        NumberTypeName::DirectRouting => "directRouting",
        NumberTypeName::OperatorConnect => "operatorConnect",
    }
}

fn write_csv_source(out: &mut String, csv: &CsvSource) {
    let _ = writeln!(out, "  - csv: {}", scalar(&csv.csv));
    if let Some(loc) = &csv.usage_location {
        let _ = writeln!(out, "    usageLocation: {}", scalar(&loc.0));
    }
    if let Some(profile) = &csv.profile {
        let _ = writeln!(out, "    profile: {}", scalar(profile));
    }
    if let Some(licenses) = &csv.licenses {
        let _ = writeln!(out, "    licenses: {}", flow_list(licenses));
    }
    if let Some(kind) = &csv.number_type {
        let _ = writeln!(out, "    numberType: {}", number_type(*kind));
    }
}

fn flow_list(licenses: &[License]) -> String {
    let items: Vec<String> = licenses.iter().map(|l| scalar(&l.0)).collect();
    format!("[{}]", items.join(", "))
}

/// Amounts are digits with an optional point (checked when the document was built); anything
/// else is quoted so that it can never be read as another type.
fn amount(text: &str) -> String {
    let plain = !text.is_empty()
        && text.chars().all(|c| c.is_ascii_digit() || c == '.')
        && text.chars().filter(|c| *c == '.').count() <= 1
        && !text.starts_with('.')
        && !text.ends_with('.');
    if plain {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// A string scalar, plain when YAML reads it back as the same string, else double-quoted.
pub fn scalar(text: &str) -> String {
    if is_plain_safe(text) {
        text.to_string()
    } else {
        quoted(text)
    }
}

/// Plain only when it starts with a letter (or is a relative path such as `../tenant.json`),
/// uses characters with no YAML meaning (inside a flow list too) and is not a word some YAML
/// reader takes for a boolean or null.
fn is_plain_safe(text: &str) -> bool {
    const RESERVED: &[&str] = &[
        "y", "n", "yes", "no", "on", "off", "true", "false", "null", "nan", "inf",
    ];
    let mut chars = text.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    (first.is_ascii_alphabetic() || text.starts_with("../") || text.starts_with("./"))
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._@+-/()'^~!".contains(c))
        && !RESERVED.iter().any(|r| r.eq_ignore_ascii_case(text))
}

/// A double-quoted scalar with YAML escapes.
pub fn quoted(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let _ = write!(out, "\\u{:04X}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_only_when_needed() {
        assert_eq!(scalar("alice@contoso.com"), "alice@contoso.com");
        assert_eq!(scalar("phone+domestic-calling"), "phone+domestic-calling");
        assert_eq!(scalar("NO"), "\"NO\"");
        assert_eq!(scalar("62839471"), "\"62839471\"");
        assert_eq!(
            scalar("ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
            "\"ann_fabrikam.com#EXT#@contoso.onmicrosoft.com\""
        );
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar("say \"hi\"\n"), "\"say \\\"hi\\\"\\n\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("../tenant.json"), "../tenant.json");
        assert_eq!(scalar(".inf"), "\".inf\"");
        assert_eq!(amount("250.00"), "250.00");
        assert_eq!(amount("1e3"), "\"1e3\"");
    }
}
