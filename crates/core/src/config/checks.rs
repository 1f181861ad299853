//! Checks of single values (UPNs, domains, country and currency codes, license names) and
//! "did you mean" suggestions. Pure functions: the walker decides where to report.

use crate::base::codes::{currency_minor_units, is_country};
use crate::base::licenses::{Friendly, LicenseName};

/// The closest candidate to `input`, when it is close enough to be a likely typo.
pub fn closest<'c>(input: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    let input = input.to_ascii_lowercase();
    let length = input.chars().count();
    candidates
        .into_iter()
        // The distance is at least the difference in length, so a candidate that differs
        // by more than 40% of the longer one cannot score 0.6: skip it before the
        // quadratic distance (a 10 MB value is answered at once, not in minutes).
        .filter(|c| {
            let other = c.chars().count();
            length.abs_diff(other) * 5 <= length.max(other) * 2
        })
        .map(|c| {
            (
                strsim::normalized_damerau_levenshtein(&input, &c.to_ascii_lowercase()),
                c,
            )
        })
        .filter(|(score, _)| *score >= 0.6)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

/// " (did you mean `x`?)"-style help text, or the fallback listing the choices.
pub fn did_you_mean(input: &str, candidates: &[&str]) -> String {
    match closest(input, candidates.iter().copied()) {
        Some(best) => format!("did you mean `{best}`?"),
        None => format!("expected one of: {}", quoted_list(candidates)),
    }
}

pub fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|i| format!("`{i}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// A license name: a friendly name, or anything that looks like a SKU part number (checked
/// against the live tenant at plan time). `Err` carries the help line.
pub fn license(name: &str) -> Result<LicenseName, String> {
    if let Some(found) = LicenseName::classify(name) {
        return Ok(found);
    }
    let friendly: Vec<&str> = Friendly::ALL.iter().map(|f| f.name()).collect();
    Err(match closest(name, friendly.iter().copied()) {
        Some(best) => format!(
            "did you mean `{best}`? Use a friendly name or a SKU part number as the tenant \
             lists it (e.g. MCOPSTN_6)"
        ),
        None => format!(
            "use one of {} or a SKU part number as the tenant lists it (e.g. MCOPSTN_6)",
            quoted_list(&friendly)
        ),
    })
}

/// Why `upn` is not a user principal name, if it is not.
///
/// Microsoft allows letters, digits and `' . - _ ! # ^ ~` before the `@` (guests look like
/// `ann_fabrikam.com#EXT#@contoso.onmicrosoft.com`), and a verified domain after it.
pub fn upn_problem(upn: &str) -> Option<String> {
    // Lengths first: a 10 MB value is refused without scanning it character by character.
    if let Some(why) = upn_length_problem(upn) {
        return Some(why);
    }
    let Some((local, domain)) = upn.split_once('@') else {
        return Some("it has no `@`".into());
    };
    if domain.contains('@') {
        return Some("it has more than one `@`".into());
    }
    if local.is_empty() {
        return Some("nothing before the `@`".into());
    }
    if let Some(c) = local
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "'.-_!#^~".contains(*c)))
    {
        return Some(format!("`{c}` is not allowed before the `@`"));
    }
    if local.starts_with('.') || local.ends_with('.') || local.contains("..") {
        return Some("the part before the `@` cannot start or end with `.` or contain `..`".into());
    }
    domain_problem(domain).map(|why| format!("its domain `{domain}` is not valid: {why}"))
}

/// Microsoft Entra ID's limits on a user principal name ("Password policies and account
/// restrictions in Microsoft Entra ID", UserPrincipalName policies, read 2026-12-07): at most
/// 113 characters in all, up to 64 before the `@` and up to 48 after it.
pub const UPN_MAX: usize = 113;
pub const UPN_LOCAL_MAX: usize = 64;
pub const UPN_DOMAIN_MAX: usize = 48;

/// Why `upn` is longer than Entra ID allows, if it is. Constant time for anything far too
/// long (four bytes per character at most bound the count), so a 10 MB value is not scanned.
pub fn upn_length_problem(upn: &str) -> Option<String> {
    if upn.len() > 4 * UPN_MAX {
        return Some(format!(
            "it is {} bytes long; Entra ID allows at most {UPN_MAX} characters",
            upn.len()
        ));
    }
    let total = upn.chars().count();
    if total > UPN_MAX {
        return Some(format!(
            "it is {total} characters long; Entra ID allows at most {UPN_MAX}"
        ));
    }
    let (local, domain) = upn.split_once('@')?;
    let before = local.chars().count();
    if before > UPN_LOCAL_MAX {
        return Some(format!(
            "it has {before} characters before the `@`; Entra ID allows at most {UPN_LOCAL_MAX}"
        ));
    }
    let after = domain.chars().count();
    if after > UPN_DOMAIN_MAX {
        return Some(format!(
            "it has {after} characters after the `@`; Entra ID allows at most {UPN_DOMAIN_MAX}"
        ));
    }
    None
}

/// Why `domain` is not a DNS domain name such as `contoso.onmicrosoft.com`, if it is not.
pub fn domain_problem(domain: &str) -> Option<String> {
    if domain.is_empty() {
        return Some("it is empty".into());
    }
    if domain.len() > 253 {
        return Some("it is longer than 253 characters".into());
    }
    let labels: Vec<&str> = domain.split('.').collect();
    if labels.len() < 2 {
        return Some("it has no `.` (e.g. contoso.onmicrosoft.com)".into());
    }
    for label in &labels {
        if label.is_empty() {
            return Some("it has an empty part between dots".into());
        }
        if label.len() > 63 {
            return Some(format!("`{label}` is longer than 63 characters"));
        }
        if let Some(c) = label
            .chars()
            .find(|c| !(c.is_ascii_alphanumeric() || *c == '-'))
        {
            return Some(format!("`{c}` is not allowed in a domain name"));
        }
        if label.starts_with('-') || label.ends_with('-') {
            return Some(format!("`{label}` starts or ends with `-`"));
        }
    }
    None
}

/// `Err(help)` when `code` is not an ISO 3166-1 alpha-2 country code as Graph stores it.
pub fn country(code: &str) -> Result<(), String> {
    if is_country(code) {
        return Ok(());
    }
    let upper = code.to_ascii_uppercase();
    if upper == "UK" {
        return Err("the ISO 3166-1 code of the United Kingdom is `GB`".into());
    }
    if is_country(&upper) {
        return Err(format!("write it in upper case: `{upper}`"));
    }
    Err("use a two-letter ISO 3166-1 alpha-2 code in upper case, e.g. `US`, `GB`, `DE`".into())
}

/// The number of decimal places of an ISO 4217 currency, or `Err(help)`.
pub fn currency(code: &str) -> Result<u32, String> {
    if let Some(units) = currency_minor_units(code) {
        return Ok(units);
    }
    let upper = code.to_ascii_uppercase();
    if currency_minor_units(&upper).is_some() {
        return Err(format!("write it in upper case: `{upper}`"));
    }
    Err("use a three-letter ISO 4217 code in upper case, e.g. `USD`, `EUR`, `GBP`".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_find_typos_only() {
        let keys = ["apiVersion", "tenant", "profiles", "users"];
        assert_eq!(closest("apiversion", keys), Some("apiVersion"));
        assert_eq!(closest("profile", keys), Some("profiles"));
        assert_eq!(closest("zzz", keys), None);
        assert!(license("phoneSytem").unwrap_err().contains("`phoneSystem`"));
        assert_eq!(
            license("MCOPSTN_6").unwrap(),
            LicenseName::PartNumber("MCOPSTN_6".into())
        );
    }

    #[test]
    fn upns() {
        assert_eq!(upn_problem("alice@contoso.com"), None);
        assert_eq!(
            upn_problem("ann_fabrikam.com#EXT#@contoso.onmicrosoft.com"),
            None
        );
        assert!(upn_problem("alice").is_some());
        assert!(upn_problem("alice@@contoso.com").is_some());
        assert!(upn_problem("al ice@contoso.com").is_some());
        assert!(upn_problem("alice@contoso").is_some());
        assert!(upn_problem(".alice@contoso.com").is_some());
        assert!(upn_problem("@contoso.com").is_some());
    }

    #[test]
    fn countries_and_currencies() {
        assert!(country("US").is_ok());
        assert!(country("us").unwrap_err().contains("`US`"));
        assert!(country("UK").unwrap_err().contains("`GB`"));
        assert!(country("USA").is_err());
        assert_eq!(currency("JPY"), Ok(0));
        assert!(currency("usd").unwrap_err().contains("`USD`"));
        assert!(currency("XYZ").is_err());
    }
}
