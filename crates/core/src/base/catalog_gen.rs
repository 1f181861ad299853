//! The catalog generator, run as a test (`cargo test --lib catalog_gen`): Microsoft's SKU
//! table -> the rows commcred reads (`data/microsoft-service-plans.csv`) -> the catalog
//! (`data/license-catalog.json`) -> the capability table of `docs/licensing.md`.
//! Each test fails when a checked-in file differs from what its source generates; run
//! with `COMMCRED_BLESS=1` to rewrite the files instead.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::catalog::{
    CATALOG_JSON, Capability, Catalog, CatalogServicePlan, CatalogSku, CatalogSource,
    CatalogTeamsPlan, catalog, classify_service_plan, cloud_of, is_teams_service_plan, payg_zone,
    sold_capability,
};

const TITLE: &str = "Product names and service plan identifiers for licensing";
const URL: &str =
    "https://learn.microsoft.com/en-us/entra/identity/users/licensing-service-plan-reference";
/// When Microsoft's table was downloaded into `../shared/data`.
const RETRIEVED: &str = "2026-12-02";
const HEADER: [&str; 6] = [
    "Product_Display_Name",
    "String_Id",
    "GUID",
    "Service_Plan_Name",
    "Service_Plan_Id",
    "Service_Plans_Included_Friendly_Names",
];

/// A path from the root of the repository (the core crate lives in `crates/core`).
fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../..")
        .join(path)
}

fn bless() -> bool {
    std::env::var_os("COMMCRED_BLESS").is_some()
}

/// Compares a checked-in file with what its source generates (or rewrites it when blessing).
fn check_generated(path: &str, generated: &str) {
    let file = repo(path);
    if bless() {
        std::fs::write(&file, generated).unwrap();
        return;
    }
    let current = std::fs::read_to_string(&file).unwrap_or_default();
    assert!(
        current == generated,
        "{path} is not what its source generates; run `COMMCRED_BLESS=1 cargo test --lib catalog_gen` and commit the result"
    );
}

fn rows(csv_text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new()
        .comment(Some(b'#'))
        .from_reader(csv_text.trim_start_matches('\u{feff}').as_bytes());
    reader
        .records()
        .map(|r| r.unwrap().iter().map(|f| f.trim().to_string()).collect())
        .collect()
}

/// Microsoft's table -> the rows the generator reads: every row of a Teams-calling service
/// plan, and for each SKU holding one, its Microsoft Teams service plan rows (what Teams
/// Phone needs) and its first other row (not Exchange Foundation), which is all
/// `sold_capability` needs to tell a suite from an add-on.
fn trim(full_csv: &str) -> String {
    let all = rows(full_csv);
    let calling_skus: BTreeSet<&str> = all
        .iter()
        .filter(|r| classify_service_plan(&r[3]).is_some())
        .map(|r| r[2].as_str())
        .collect();
    let mut other_seen = BTreeSet::new();
    let mut out = csv::Writer::from_writer(Vec::new());
    out.write_record(HEADER).unwrap();
    for r in &all {
        if !calling_skus.contains(r[2].as_str()) {
            continue;
        }
        let calling = classify_service_plan(&r[3]).is_some();
        let teams = is_teams_service_plan(&r[3]);
        let plumbing = r[3].to_ascii_uppercase().starts_with("EXCHANGE")
            && r[3].to_ascii_uppercase().contains("FOUNDATION");
        if calling || teams || (!plumbing && other_seen.insert(r[2].clone())) {
            out.write_record(r).unwrap();
        }
    }
    let body = String::from_utf8(out.into_inner().unwrap()).unwrap();
    format!(
        "# Rows of Microsoft's \"{TITLE}\" ({URL}), retrieved {RETRIEVED},\n\
         # trimmed by src/base/catalog_gen.rs to what the catalog generator reads.\n{body}"
    )
}

/// The trimmed rows -> the catalog.
fn generate(trimmed_csv: &str) -> Catalog {
    let all = rows(trimmed_csv);
    let mut plans: BTreeMap<(Capability, String), CatalogServicePlan> = BTreeMap::new();
    let mut skus: BTreeMap<String, (CatalogSku, Vec<String>)> = BTreeMap::new();
    let mut teams_plans: BTreeMap<String, CatalogTeamsPlan> = BTreeMap::new();
    for r in &all {
        let teams = is_teams_service_plan(&r[3]);
        if teams {
            teams_plans
                .entry(r[3].clone())
                .or_insert_with(|| CatalogTeamsPlan {
                    service_plan_name: r[3].clone(),
                    service_plan_id: r[4].to_ascii_lowercase(),
                    friendly_name: r[5].clone(),
                    cloud: cloud_of(&r[3]),
                });
        }
        let capability = classify_service_plan(&r[3]);
        if let Some(capability) = capability {
            plans
                .entry((capability, r[3].clone()))
                .or_insert_with(|| CatalogServicePlan {
                    service_plan_name: r[3].clone(),
                    service_plan_id: r[4].to_ascii_lowercase(),
                    friendly_name: r[5].clone(),
                    capability,
                    cloud: cloud_of(&r[3]),
                    zone: payg_zone(&r[3]),
                });
        }
        let (sku, names) = skus.entry(r[1].clone()).or_insert_with(|| {
            let sku = CatalogSku {
                sku_part_number: r[1].clone(),
                sku_id: r[2].to_ascii_lowercase(),
                product_name: r[0].clone(),
                calling_service_plans: Vec::new(),
                capabilities: Vec::new(),
                sells: None,
                teams_service_plans: Vec::new(),
            };
            (sku, Vec::new())
        });
        names.push(r[3].clone());
        if teams && !sku.teams_service_plans.contains(&r[3]) {
            sku.teams_service_plans.push(r[3].clone());
        }
        if let Some(c) = capability {
            if !sku.calling_service_plans.contains(&r[3]) {
                sku.calling_service_plans.push(r[3].clone());
            }
            if !sku.capabilities.contains(&c) {
                sku.capabilities.push(c);
            }
        }
    }
    let skus = skus
        .into_values()
        .map(|(mut sku, names)| {
            sku.capabilities.sort();
            sku.sells = sold_capability(names.iter().map(String::as_str));
            sku
        })
        .collect();
    Catalog {
        source: CatalogSource {
            title: TITLE.into(),
            url: URL.into(),
            retrieved: RETRIEVED.into(),
        },
        service_plans: plans.into_values().collect(),
        skus,
        teams_service_plans: teams_plans.into_values().collect(),
    }
}

fn catalog_json(catalog: &Catalog) -> String {
    serde_json::to_string_pretty(catalog).unwrap() + "\n"
}

const DOC_BEGIN: &str = "<!-- capability table: generated from data/license-catalog.json -->\n";
const DOC_END: &str = "<!-- end of capability table -->\n";

/// The capability table of `docs/licensing.md`: each capability, its service plans, and the
/// SKUs that carry it (add-ons that sell it in bold).
fn capability_table(catalog: &Catalog) -> String {
    let mut out =
        String::from("| capability | service plans | SKUs (**sells it**) |\n| --- | --- | --- |\n");
    for cap in Capability::ALL {
        let plans: Vec<String> = catalog
            .service_plans
            .iter()
            .filter(|p| p.capability == cap)
            .map(|p| format!("`{}`", p.service_plan_name))
            .collect();
        let skus: Vec<String> = catalog
            .skus
            .iter()
            .filter(|s| s.capabilities.contains(&cap))
            .map(|s| match s.sells {
                Some(c) if c == cap => format!("**`{}`**", s.sku_part_number),
                _ => format!("`{}`", s.sku_part_number),
            })
            .collect();
        out.push_str(&format!(
            "| {} (`{}`) | {} | {} |\n",
            cap.label(),
            cap.key(),
            if plans.is_empty() {
                "—".into()
            } else {
                plans.join(", ")
            },
            if skus.is_empty() {
                "—".into()
            } else {
                skus.join(", ")
            },
        ));
    }
    out
}

#[test]
fn trimmed_source_matches_microsofts_table() {
    // The full table lives beside the repository on the team's machine, not in a fresh
    // clone: there the checked-in trimmed rows are the source, checked by the next test.
    let full = std::env::var_os("COMMCRED_MS_TABLE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo("../shared/data/microsoft-licensing-service-plans.csv"));
    let Ok(text) = std::fs::read_to_string(&full) else {
        eprintln!(
            "{} not found: trimmed source not re-checked",
            full.display()
        );
        return;
    };
    check_generated("data/microsoft-service-plans.csv", &trim(&text));
}

#[test]
fn catalog_matches_its_source() {
    let source = std::fs::read_to_string(repo("data/microsoft-service-plans.csv")).unwrap();
    let generated = catalog_json(&generate(&source));
    if bless() {
        check_generated("data/license-catalog.json", &generated);
        return;
    }
    assert!(
        CATALOG_JSON == generated,
        "data/license-catalog.json is not what data/microsoft-service-plans.csv generates; run `COMMCRED_BLESS=1 cargo test --lib catalog_gen`"
    );
}

#[test]
fn licensing_doc_shows_the_current_catalog() {
    let path = repo("docs/licensing.md");
    let doc = std::fs::read_to_string(&path).unwrap();
    let begin = doc
        .find(DOC_BEGIN)
        .expect("docs/licensing.md has the table marker")
        + DOC_BEGIN.len();
    let end = doc
        .find(DOC_END)
        .expect("docs/licensing.md has the end marker");
    let generated = capability_table(catalog());
    if bless() {
        let rewritten = format!("{}{}{}", &doc[..begin], generated, &doc[end..]);
        std::fs::write(&path, rewritten).unwrap();
        return;
    }
    assert!(
        doc[begin..end] == generated,
        "docs/licensing.md's capability table is out of date; run `COMMCRED_BLESS=1 cargo test --lib catalog_gen`"
    );
}
