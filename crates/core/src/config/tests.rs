//! Loading whole configs (YAML + CSV held in memory): the desired state produced, and the
//! code and place of each problem.

use std::collections::{BTreeSet, HashMap};
use std::io;
use std::path::{Path, PathBuf};

use rust_decimal::Decimal;
use sha2::{Digest, Sha256};

use super::*;
use crate::base::licenses::{Friendly, LicenseName};
use crate::tenant::PaymentMethod;

const HEAD: &str = "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\n";

/// Loads `yaml` as `cfg/commcred.yaml` with `csvs` as files in `cfg/`.
fn load_with(yaml: &str, csvs: &[(&str, &str)]) -> Result<LoadedConfig, ConfigError> {
    let files: HashMap<PathBuf, Vec<u8>> = csvs
        .iter()
        .map(|(name, text)| (Path::new("cfg").join(name), text.as_bytes().to_vec()))
        .collect();
    let mut read = |path: &Path| {
        files
            .get(path)
            .cloned()
            .ok_or_else(|| io::Error::new(io::ErrorKind::NotFound, "No such file"))
    };
    load_bytes(
        Path::new("cfg/commcred.yaml"),
        yaml.as_bytes().to_vec(),
        &mut read,
    )
}

/// (code, file, line, column) of every problem, in order.
fn problems(yaml: &str, csvs: &[(&str, &str)]) -> Vec<(Code, String, usize, usize)> {
    let error = load_with(yaml, csvs).expect_err("expected problems");
    error
        .diagnostics()
        .iter()
        .map(|p| {
            let (line, column) = p.line_column().expect("every problem has a place");
            (
                p.code().unwrap(),
                p.file().unwrap().display().to_string(),
                line,
                column,
            )
        })
        .collect()
}

/// The one problem of `yaml`, as (code, line, column) in the YAML.
fn one(yaml: &str) -> (Code, usize, usize) {
    let found = problems(yaml, &[]);
    assert_eq!(found.len(), 1, "{found:?}");
    let (code, file, line, column) = found[0].clone();
    assert_eq!(file, "cfg/commcred.yaml");
    (code, line, column)
}

fn friendly(names: &[Friendly]) -> BTreeSet<LicenseName> {
    names.iter().map(|f| LicenseName::Friendly(*f)).collect()
}

const SPEC_EXAMPLE: &str = r#"# yaml-language-server: $schema=../../schemas/commcred.schema.json
apiVersion: commcred/v1
tenant: contoso.onmicrosoft.com
backend:
  file: tenant.json
defaultUsageLocation: US

communicationsCredits:
  currency: USD
  minimumBalance: 500.00
  autoRecharge:
    enabled: true
    triggerBelow: 100.00
    rechargeAmount: 250.00
  payment:
    method: enterpriseAgreement
    agreementNumber: "62839471"
    purchaseOrder: "PO-2026-114"

profiles:
  dial-out: [audioConferencing, communicationsCredits]
  intl-phone: [phoneSystem, internationalCallingPlan, communicationsCredits]

users:
  - upn: alice@contoso.com
    usageLocation: IT
    profile: intl-phone
  - csv: onboarding/sales.csv
    profile: dial-out
  - upn: bob@contoso.com
    licenses: [audioConferencing, MCOPSTN_6]

prune: false
"#;

const SALES_CSV: &str = "\u{feff}upn,usageLocation,profile,licenses\n\
carol@contoso.com,DE,,\n\
dave@contoso.com,,intl-phone,payAsYouGoCallingPlan\n";

#[test]
fn the_spec_example_loads() {
    let loaded = load_with(SPEC_EXAMPLE, &[("onboarding/sales.csv", SALES_CSV)]).unwrap();
    let d = &loaded.desired;
    assert_eq!(d.tenant, "contoso.onmicrosoft.com");
    assert_eq!(d.config_path, Path::new("cfg/commcred.yaml"));
    assert_eq!(
        d.backend,
        Some(BackendSpec::File(PathBuf::from("cfg/tenant.json")))
    );
    assert_eq!(d.default_usage_location.as_deref(), Some("US"));
    assert!(!d.prune);

    let credits = d.credits.as_ref().unwrap();
    assert_eq!(credits.currency, "USD");
    let min = credits.minimum_balance.unwrap();
    assert_eq!((min, min.scale()), (Decimal::new(50000, 2), 2));
    let auto = credits.auto_recharge.as_ref().unwrap();
    assert!(auto.enabled);
    assert_eq!(auto.trigger_below, Some(Decimal::new(10000, 2)));
    assert_eq!(auto.recharge_amount, Some(Decimal::new(25000, 2)));
    let payment = credits.payment.as_ref().unwrap();
    assert_eq!(payment.method, PaymentMethod::EnterpriseAgreement);
    assert_eq!(payment.agreement_number.as_deref(), Some("62839471"));
    assert_eq!(payment.purchase_order.as_deref(), Some("PO-2026-114"));
    assert_eq!((credits.origin.line, credits.origin.column), (8, 1));

    // Written order, CSV rows in place of their entry.
    let upns: Vec<&str> = d.users.iter().map(|u| u.upn.as_str()).collect();
    assert_eq!(
        upns,
        [
            "alice@contoso.com",
            "carol@contoso.com",
            "dave@contoso.com",
            "bob@contoso.com"
        ]
    );
    use Friendly::*;
    assert_eq!(
        set(&d.users[0].licenses),
        friendly(&[PhoneSystem, InternationalCallingPlan, CommunicationsCredits])
    );
    assert_eq!(d.users[0].usage_location.as_deref(), Some("IT"));
    // carol: the entry's default profile; dave: his own profile plus his licenses.
    assert_eq!(
        set(&d.users[1].licenses),
        friendly(&[AudioConferencing, CommunicationsCredits])
    );
    assert_eq!(d.users[1].usage_location.as_deref(), Some("DE"));
    assert_eq!(
        set(&d.users[2].licenses),
        friendly(&[
            PhoneSystem,
            InternationalCallingPlan,
            CommunicationsCredits,
            PayAsYouGoCallingPlan
        ])
    );
    assert_eq!(d.users[2].usage_location, None);
    let mut bob = friendly(&[AudioConferencing]);
    bob.insert(LicenseName::PartNumber("MCOPSTN_6".into()));
    assert_eq!(set(&d.users[3].licenses), bob);

    let alice = &d.users[0].origin;
    assert_eq!(
        (alice.file.as_ref(), alice.line, alice.column),
        (Path::new("cfg/commcred.yaml"), 25, 10)
    );
    let dave = &d.users[2].origin;
    assert_eq!(
        (dave.file.as_ref(), dave.line, dave.column),
        (Path::new("cfg/onboarding/sales.csv"), 3, 1)
    );
    assert_eq!(loaded.profiles.len(), 2);

    let mut hash = Sha256::new();
    hash.update(SPEC_EXAMPLE.as_bytes());
    hash.update(SALES_CSV.as_bytes());
    assert_eq!(d.digest, hex::encode(hash.finalize()));
}

#[test]
fn money_keeps_its_exact_text() {
    let yaml = format!("{HEAD}communicationsCredits:\n  currency: USD\n  minimumBalance: 10.50\n");
    let min = load_with(&yaml, &[])
        .unwrap()
        .desired
        .credits
        .unwrap()
        .minimum_balance;
    let min = min.unwrap();
    assert_eq!((min.to_string(), min.scale()), ("10.50".into(), 2));

    let yaml = format!("{HEAD}communicationsCredits:\n  currency: USD\n  minimumBalance: 0.1\n");
    let min = load_with(&yaml, &[])
        .unwrap()
        .desired
        .credits
        .unwrap()
        .minimum_balance;
    assert_eq!(min, Some(Decimal::new(1, 1)));

    // Quoted amounts are read the same way.
    let yaml =
        format!("{HEAD}communicationsCredits:\n  currency: JPY\n  minimumBalance: \"1200\"\n");
    let min = load_with(&yaml, &[])
        .unwrap()
        .desired
        .credits
        .unwrap()
        .minimum_balance;
    assert_eq!(min, Some(Decimal::new(1200, 0)));
}

#[test]
fn minimal_config_and_backend_forms() {
    let d = load_with(HEAD, &[]).unwrap().desired;
    assert_eq!(d.users, []);
    assert_eq!((d.backend, d.credits, d.prune), (None, None, false));

    let graph = |text: &str| {
        load_with(&format!("{HEAD}backend:\n  graph: {text}\n"), &[])
            .unwrap()
            .desired
            .backend
    };
    assert_eq!(graph(""), Some(BackendSpec::Graph(None)));
    assert_eq!(graph("true"), Some(BackendSpec::Graph(None)));
    assert_eq!(
        graph("http://127.0.0.1:8080/"),
        Some(BackendSpec::Graph(Some("http://127.0.0.1:8080".into())))
    );
    let d = load_with(
        &format!("{HEAD}backend: file:snap.json\nprune: true\n"),
        &[],
    )
    .unwrap()
    .desired;
    assert_eq!(d.backend, Some(BackendSpec::File("cfg/snap.json".into())));
    assert!(d.prune);
}

#[test]
fn parser_problems() {
    assert_eq!(
        one(&format!("{HEAD}prune: true\nprune: false\n")),
        (Code::DuplicateKey, 4, 1)
    );
    assert_eq!(one(&format!("{HEAD}users: [a\n")), (Code::Syntax, 3, 8));
    assert_eq!(
        one("apiVersion: commcred/v1\ntenant: a: b\n").0,
        Code::Syntax
    );
}

#[test]
fn key_and_type_problems() {
    assert_eq!(
        one(&format!("{HEAD}prun: true\n")),
        (Code::UnknownKey, 3, 1)
    );
    let error = load_with(&format!("{HEAD}prun: true\n"), &[]).unwrap_err();
    assert!(
        error.diagnostics()[0]
            .help_text()
            .unwrap()
            .contains("`prune`")
    );
    assert_eq!(one("apiVersion: commcred/v1\n"), (Code::MissingKey, 1, 1));
    assert_eq!(one(&format!("{HEAD}prune: yes\n")), (Code::WrongType, 3, 8));
    assert_eq!(
        one(&format!("{HEAD}users: {{a: b}}\n")),
        (Code::WrongType, 3, 8)
    );
    assert_eq!(one("- a\n"), (Code::WrongType, 1, 1));
    assert_eq!(
        one("apiVersion: commcred/v2\ntenant: contoso.onmicrosoft.com\n"),
        (Code::ApiVersion, 1, 13)
    );
    assert_eq!(
        one("apiVersion: commcred/v1\ntenant: contoso\n"),
        (Code::InvalidTenant, 2, 9)
    );
}

#[test]
fn backend_problems() {
    assert_eq!(
        one(&format!("{HEAD}backend:\n  file: a.json\n  graph: true\n")),
        (Code::InvalidBackend, 5, 3)
    );
    assert_eq!(
        one(&format!("{HEAD}backend: {{}}\n")).0,
        Code::InvalidBackend
    );
    assert_eq!(
        one(&format!("{HEAD}backend:\n  graph: ftp://x\n")),
        (Code::InvalidBackend, 4, 10)
    );
    assert_eq!(
        one(&format!("{HEAD}backend:\n  graph: false\n")),
        (Code::InvalidBackend, 4, 10)
    );
}

#[test]
fn license_and_profile_problems() {
    let yaml = format!(
        "{HEAD}profiles:\n  p: [phoneSytem]\nusers:\n  - upn: a@contoso.com\n    profile: p\n"
    );
    // The profile still exists, so the user gets no second problem.
    assert_eq!(one(&yaml), (Code::UnknownLicense, 4, 7));
    let error = load_with(&yaml, &[]).unwrap_err();
    assert!(
        error.diagnostics()[0]
            .help_text()
            .unwrap()
            .contains("`phoneSystem`")
    );

    let yaml = format!(
        "{HEAD}profiles:\n  dial-out: []\nusers:\n  - upn: a@contoso.com\n    profile: dialout\n"
    );
    assert_eq!(one(&yaml), (Code::UnknownProfile, 7, 14));
    let error = load_with(&yaml, &[]).unwrap_err();
    assert!(
        error.diagnostics()[0]
            .help_text()
            .unwrap()
            .contains("`dial-out`")
    );
}

#[test]
fn user_problems() {
    let user = |body: &str| format!("{HEAD}users:\n  - {body}\n");
    assert_eq!(one(&user("upn: alice")), (Code::InvalidUpn, 4, 10));
    assert_eq!(
        one(&user("upn: a@contoso.com\n    usageLocation: us")),
        (Code::InvalidUsageLocation, 5, 20)
    );
    let error = load_with(&user("upn: a@contoso.com\n    usageLocation: us"), &[]).unwrap_err();
    assert!(error.diagnostics()[0].help_text().unwrap().contains("`US`"));
    let codes: Vec<Code> = problems(&user("profile: x"), &[])
        .iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(codes, [Code::MissingKey, Code::UnknownProfile]);
    let both = user("upn: a@contoso.com\n    csv: x.csv");
    assert_eq!(
        problems(&both, &[("x.csv", "upn\n")]),
        [(Code::InvalidUserEntry, "cfg/commcred.yaml".into(), 4, 5)]
    );
    assert_eq!(
        one(&format!(
            "{HEAD}users:\n  - upn: Alice@Contoso.com\n  - upn: alice@contoso.com\n"
        )),
        (Code::DuplicateUser, 5, 10)
    );
}

#[test]
fn duplicate_across_yaml_and_csv_shows_both_places() {
    let yaml = format!("{HEAD}users:\n  - csv: u.csv\n  - upn: bob@contoso.com\n");
    let csv = "upn\nalice@contoso.com\nBOB@contoso.com\n";
    let error = load_with(&yaml, &[("u.csv", csv)]).unwrap_err();
    let [problem] = error.diagnostics() else {
        panic!("{error:?}")
    };
    assert_eq!(problem.code(), Some(Code::DuplicateUser));
    assert_eq!(problem.file(), Some(Path::new("cfg/commcred.yaml")));
    assert_eq!(problem.line_column(), Some((5, 10)));
    let note = &problem.notes()[0];
    assert_eq!(note.file(), Some(Path::new("cfg/u.csv")));
    assert_eq!(note.line_column(), Some((3, 1)));
    let text = error.render_plain();
    assert!(text.contains("cfg/commcred.yaml:5:10"), "{text}");
    assert!(text.contains("cfg/u.csv:3:1"), "{text}");
}

#[test]
fn credits_problems() {
    let credits = |body: &str| format!("{HEAD}communicationsCredits:\n{body}\n");
    assert_eq!(
        one(&credits("  currency: usd")),
        (Code::InvalidCurrency, 4, 13)
    );
    assert_eq!(
        one(&credits("  minimumBalance: 10")),
        (Code::MissingKey, 3, 1)
    );
    assert_eq!(
        one(&credits("  currency: USD\n  minimumBalance: -5")),
        (Code::NegativeAmount, 5, 19)
    );
    assert_eq!(
        one(&credits("  currency: USD\n  minimumBalance: ten")),
        (Code::InvalidAmount, 5, 19)
    );
    assert_eq!(
        one(&credits("  currency: USD\n  minimumBalance: 1e3")),
        (Code::InvalidAmount, 5, 19)
    );
    assert_eq!(
        one(&credits("  currency: USD\n  minimumBalance: 10.505")),
        (Code::TooManyDecimals, 5, 19)
    );
    assert_eq!(
        one(&credits("  currency: JPY\n  minimumBalance: 100.5")),
        (Code::TooManyDecimals, 5, 19)
    );
    assert_eq!(
        one(&credits(
            "  currency: USD\n  autoRecharge:\n    enabled: true\n    triggerBelow: 10"
        )),
        (Code::AutoRechargeIncomplete, 6, 14)
    );
    assert_eq!(
        one(&credits(
            "  currency: USD\n  autoRecharge: {enabled: true, triggerBelow: 1, rechargeAmount: 0}"
        ))
        .0,
        Code::AmountNotPositive
    );
    assert_eq!(
        one(&credits(
            "  currency: USD\n  payment:\n    method: enterpriseAgreement"
        )),
        (Code::AgreementNumberRequired, 6, 13)
    );
    assert_eq!(
        one(&credits("  currency: USD\n  payment:\n    method: card")),
        (Code::InvalidPaymentMethod, 6, 13)
    );
    // Disabled auto-recharge needs no amounts.
    let ok = credits("  currency: USD\n  autoRecharge: {enabled: false}");
    assert!(load_with(&ok, &[]).is_ok());
}

#[test]
fn csv_problems_point_into_the_csv() {
    let yaml =
        format!("{HEAD}profiles:\n  dial-out: [audioConferencing]\nusers:\n  - csv: u.csv\n");
    let csv = "upn,usageLocation,profile,licenses,team\n\
               not-a-upn,US,,,\n\
               b@contoso.com,us,dialout,phoneSytem;MCOEV,\n\
               ,US,,,\n";
    let found = problems(&yaml, &[("u.csv", csv)]);
    let codes: Vec<(Code, usize, usize)> = found
        .iter()
        .map(|(code, file, line, column)| {
            assert_eq!(file, "cfg/u.csv");
            (*code, *line, *column)
        })
        .collect();
    assert_eq!(
        codes,
        [
            (Code::CsvUnknownColumn, 1, 36),
            (Code::InvalidUpn, 2, 1),
            (Code::InvalidUsageLocation, 3, 15),
            (Code::UnknownProfile, 3, 18),
            (Code::UnknownLicense, 3, 26),
            (Code::CsvMissingUpn, 4, 1),
        ]
    );

    let codes: Vec<Code> = problems(&yaml, &[("u.csv", "email\nx@contoso.com\n")])
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(codes, [Code::CsvUnknownColumn, Code::CsvMissingUpnColumn]);
    // A missing file is reported on the `csv:` value in the YAML.
    assert_eq!(one(&yaml), (Code::CsvUnreadable, 6, 10));
}

#[test]
fn every_problem_is_reported_in_order() {
    let yaml = "apiVersion: commcred/v2\n\
                tenant: contoso\n\
                defaultUsageLocation: us\n\
                communicationsCredits:\n  currency: USD\n  minimumBalance: 1.234\n\
                users:\n  - upn: nope\n  - upn: x@contoso.com\n    licenses: [bogus]\n\
                pruned: true\n";
    let codes: Vec<(Code, usize)> = problems(yaml, &[])
        .into_iter()
        .map(|(code, _, line, _)| (code, line))
        .collect();
    assert_eq!(
        codes,
        [
            (Code::ApiVersion, 1),
            (Code::InvalidTenant, 2),
            (Code::InvalidUsageLocation, 3),
            (Code::TooManyDecimals, 6),
            (Code::InvalidUpn, 8),
            (Code::UnknownLicense, 10),
            (Code::UnknownKey, 11),
        ]
    );
}

#[test]
fn empty_files_miss_the_required_keys() {
    let codes =
        |text: &str| -> Vec<Code> { problems(text, &[]).into_iter().map(|p| p.0).collect() };
    assert_eq!(codes(""), [Code::MissingKey, Code::MissingKey]);
    assert_eq!(
        codes("# nothing yet\n"),
        [Code::MissingKey, Code::MissingKey]
    );
}

#[test]
fn csv_origins_are_the_upn_cells() {
    let yaml = format!("{HEAD}users:\n  - csv: u.csv\n");
    let csv = "usageLocation,upn\n\nUS, a@contoso.com\n";
    let d = load_with(&yaml, &[("u.csv", csv)]).unwrap().desired;
    let origin = &d.users[0].origin;
    assert_eq!(
        (origin.file.as_ref(), origin.line, origin.column),
        (Path::new("cfg/u.csv"), 3, 5)
    );
}

/// The desired licenses as a set, to compare with `friendly(..)`.
fn set(licenses: &[LicenseName]) -> std::collections::BTreeSet<LicenseName> {
    licenses.iter().cloned().collect()
}

#[test]
fn a_price_list_loads_exactly() {
    let yaml = format!("{HEAD}prices: prices.yaml\n");
    let prices = "currency: USD\nasOf: 2026-11-01\nskus:\n  MCOEV: 10.00\n  MCOPSTN1: {monthly: 12.50, term: annual}\n  MCOMEETADV: 0\n";
    let loaded = load_with(&yaml, &[("prices.yaml", prices)]).unwrap();
    let list = loaded.desired.prices.expect("a price list");
    assert_eq!(list.path, Path::new("cfg/prices.yaml"));
    assert_eq!(list.currency, "USD");
    assert_eq!(list.as_of.unwrap().to_string(), "2026-11-01");
    let got: Vec<(String, String, Term, usize)> = list
        .skus
        .iter()
        .map(|p| {
            (
                p.part_number.clone(),
                p.monthly.to_string(),
                p.term,
                p.origin.line,
            )
        })
        .collect();
    assert_eq!(
        got,
        vec![
            ("MCOEV".into(), "10.00".into(), Term::Monthly, 4),
            ("MCOPSTN1".into(), "12.50".into(), Term::Annual, 5),
            ("MCOMEETADV".into(), "0".into(), Term::Monthly, 6),
        ]
    );
    assert_eq!(
        list.price_of("mcoev").unwrap().monthly,
        Decimal::new(1000, 2)
    );
    // The digest covers the price file: another price is another config.
    let other = load_with(&yaml, &[("prices.yaml", &prices.replace("10.00", "11.00"))]).unwrap();
    assert_ne!(loaded.desired.digest, other.desired.digest);
}

#[test]
fn price_list_problems_are_located_in_the_price_file() {
    let yaml = format!("{HEAD}prices: prices.yaml\nprune: maybe\n");
    let prices = "currency: usd\nasOf: 1 Nov 2026\nskus:\n  Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1): 10.005\n  phoneSystem: 3\n  Microsoft_Teams_Calling_Plan_pay_as_you_go_(COUNTRY_ZONE_1): 4\n  MCOPSTN1: {monthly: -1, term: yearly}\n  MCOPSTN2: {term: annual}\n  X_Y: ten\n";
    let found = problems(&yaml, &[("prices.yaml", prices)]);
    let codes: Vec<(Code, &str, usize, usize)> = found
        .iter()
        .map(|(c, f, l, col)| (*c, f.as_str(), *l, *col))
        .collect();
    assert_eq!(
        codes,
        vec![
            (Code::InvalidCurrency, "cfg/prices.yaml", 1, 11),
            (Code::InvalidDate, "cfg/prices.yaml", 2, 7),
            // Decimals are checked against the currency only when it is known.
            (Code::PriceNotPartNumber, "cfg/prices.yaml", 5, 3),
            (Code::DuplicatePrice, "cfg/prices.yaml", 6, 3),
            (Code::NegativeAmount, "cfg/prices.yaml", 7, 23),
            (Code::InvalidTerm, "cfg/prices.yaml", 7, 33),
            (Code::MissingKey, "cfg/prices.yaml", 8, 13),
            (Code::InvalidAmount, "cfg/prices.yaml", 9, 8),
            (Code::WrongType, "cfg/commcred.yaml", 4, 8),
        ]
    );
    // With a known currency, a third decimal in USD is refused.
    let prices = "currency: USD\nskus:\n  MCOEV: 10.005\n";
    let found = problems(
        &yaml.replace("prune: maybe\n", ""),
        &[("prices.yaml", prices)],
    );
    assert_eq!(found[0].0, Code::TooManyDecimals);
    assert_eq!((found[0].2, found[0].3), (3, 10));
}

#[test]
fn a_missing_price_file_is_reported_on_the_yaml() {
    let yaml = format!("{HEAD}prices: nowhere.yaml\n");
    assert_eq!(one(&yaml), (Code::PricesUnreadable, 3, 9));
}
