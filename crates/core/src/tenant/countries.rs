//! Where Microsoft sells Calling Plans and Communications Credits, by country: Microsoft's
//! "Country and region availability for Audio Conferencing and Calling Plans" pages, brought
//! in as data (`data/calling-plan-countries.csv`, with its source and the date read), so the
//! planner and every backend read the one table. A Calling Plan works in the country of the
//! user's usage location ("Calling Plans for Microsoft 365": the country is "based on the
//! location of the user's license", not the billing address).

use std::sync::OnceLock;

/// The checked-in table (header comments name the page and the date read).
pub const COUNTRIES_CSV: &str = include_str!("../../../../data/calling-plan-countries.csv");

/// One "Availability in <country>" page, as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Availability {
    /// ISO 3166-1 alpha-2, as Graph stores `usageLocation`.
    pub country: &'static str,
    pub name: &'static str,
    /// "Calling Plans are available to purchase?"
    pub calling_plans: bool,
    /// "Are Communications Credits available?"
    pub communications_credits: bool,
    /// Where the page's text was read: repository and commit.
    pub repository: &'static str,
    pub commit: &'static str,
}

/// Every row of the table, sorted by country code.
pub fn table() -> &'static [Availability] {
    static TABLE: OnceLock<Vec<Availability>> = OnceLock::new();
    TABLE.get_or_init(|| {
        parse(COUNTRIES_CSV).expect("data/calling-plan-countries.csv is checked by its test")
    })
}

/// The page for `country` (case-insensitive), when the table has one.
pub fn availability(country: &str) -> Option<&'static Availability> {
    let table = table();
    let code = country.to_ascii_uppercase();
    table
        .binary_search_by(|row| row.country.cmp(code.as_str()))
        .ok()
        .map(|i| &table[i])
}

/// The rows of `text`: comment lines (`#`) and the header skipped, `Yes`/`No` answers.
fn parse(text: &'static str) -> Result<Vec<Availability>, String> {
    let mut rows = Vec::new();
    let mut lines = text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty());
    let header = lines.next().ok_or("no header")?;
    if header != "country,name,callingPlans,communicationsCredits,repository,commit" {
        return Err(format!("unexpected header `{header}`"));
    }
    let yes = |v: &str| match v {
        "Yes" => Ok(true),
        "No" => Ok(false),
        other => Err(format!("`{other}` is neither Yes nor No")),
    };
    for line in lines {
        let f: Vec<&'static str> = line.split(',').collect();
        let [country, name, plans, credits, repository, commit] = f[..] else {
            return Err(format!("`{line}` does not have 6 fields"));
        };
        rows.push(Availability {
            country,
            name,
            calling_plans: yes(plans)?,
            communications_credits: yes(credits)?,
            repository,
            commit,
        });
    }
    rows.sort_by(|a, b| a.country.cmp(b.country));
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::base::codes::is_country;

    #[test]
    fn the_table_names_its_source_and_every_row_is_a_read_page() {
        assert!(
            COUNTRIES_CSV.contains(
                "Country and region availability for Audio Conferencing and Calling Plans"
            )
        );
        assert!(COUNTRIES_CSV.contains("read 2026-12-07"));
        let table = table();
        assert!(table.len() >= 30, "{}", table.len());
        for row in table {
            assert!(is_country(row.country), "{row:?}");
            assert!(row.repository.starts_with("MicrosoftDocs/"), "{row:?}");
            assert!(
                row.commit.len() == 40 && row.commit.chars().all(|c| c.is_ascii_hexdigit()),
                "{row:?}"
            );
        }
        let mut codes: Vec<&str> = table.iter().map(|r| r.country).collect();
        codes.dedup();
        assert_eq!(codes.len(), table.len(), "a country is listed twice");
        // Spot checks against the pages as read.
        assert!(availability("us").unwrap().calling_plans);
        assert!(!availability("IN").unwrap().calling_plans);
        assert!(!availability("IN").unwrap().communications_credits);
        assert!(availability("ZZ").is_none());
    }
}
