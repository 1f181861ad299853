//! `commcred validate` through the real binary: every diagnostic's code and place (file,
//! line, column) on stderr with exit 1; all problems at once; valid configs exit 0.

use std::path::Path;

use crate::common::{commcred, copy_dir, root};

const HEAD: &str = "apiVersion: commcred/v1\ntenant: contoso.onmicrosoft.com\n";

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Writes `files` (name, content) into a temp dir and runs `commcred validate` there.
fn validate(files: &[(&str, &[u8])]) -> Run {
    let dir = tempfile::tempdir().unwrap();
    for (name, content) in files {
        let path = dir.path().join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, content).unwrap();
    }
    run_in(dir.path(), &["validate"])
}

fn run_in(dir: &Path, args: &[&str]) -> Run {
    let output = commcred(dir).args(args).output().unwrap();
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// The rendered diagnostics of stderr, one block per problem.
fn blocks(stderr: &str) -> Vec<&str> {
    stderr.split("Error: ").skip(1).collect()
}

/// Asserts exit 1 and one diagnostic with `code` whose snippet is at `place`
/// (`file:line:column`); returns that diagnostic's text.
fn assert_problem<'s>(run: &'s Run, code: &str, place: &str) -> &'s str {
    assert_eq!(
        run.code, 1,
        "stdout: {}\nstderr: {}",
        run.stdout, run.stderr
    );
    let full_code = format!("commcred::config::{code}");
    let block = blocks(&run.stderr)
        .into_iter()
        .find(|b| b.starts_with(&full_code))
        .unwrap_or_else(|| panic!("no {full_code} in:\n{}", run.stderr));
    assert!(
        block.contains(&format!("[{place}]")),
        "{full_code} is not at {place}:\n{block}"
    );
    assert!(block.contains("help:"), "{full_code} has no help:\n{block}");
    block
}

/// The YAML alone has exactly one problem: `code` at `commcred.yaml:<line:column>`.
fn assert_only(yaml: &str, code: &str, line_column: &str) -> String {
    let run = validate(&[("commcred.yaml", yaml.as_bytes())]);
    assert_eq!(blocks(&run.stderr).len(), 1, "{}", run.stderr);
    assert_problem(&run, code, &format!("commcred.yaml:{line_column}")).to_string()
}

fn credits(body: &str) -> String {
    format!("{HEAD}communicationsCredits:\n  currency: USD\n{body}\n")
}

// --- valid configs ---------------------------------------------------------------------

#[test]
fn the_quickstart_is_valid() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("examples/quickstart"), dir.path());
    let run = run_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "commcred.yaml is valid: 10 users, 3 profiles, credits managed\n"
    );
}

#[test]
fn a_valid_config_with_a_csv_exits_0() {
    // BOM, CRLF, padded and case-insensitive headers, quoted cells, a blank row, `NO`.
    let dir = tempfile::tempdir().unwrap();
    copy_dir(&root().join("tests/fixtures/config/valid"), dir.path());
    let run = run_in(dir.path(), &["validate", "commcred.yaml"]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "commcred.yaml is valid: 4 users, 3 profiles, credits managed\n"
    );
    assert!(run.stderr.is_empty(), "{}", run.stderr);
}

#[test]
fn a_minimal_config_is_valid() {
    let run = validate(&[("commcred.yaml", HEAD.as_bytes())]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(
        run.stdout,
        "commcred.yaml is valid: 0 users, 0 profiles, credits not managed\n"
    );
}

// --- all at once -----------------------------------------------------------------------

#[test]
fn every_problem_is_reported_together_in_order() {
    let dir = tempfile::tempdir().unwrap();
    copy_dir(
        &root().join("tests/fixtures/config/many-problems"),
        dir.path(),
    );
    let run = run_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("commcred.yaml has 13 problems"),
        "{}",
        run.stderr
    );
    let expected = [
        ("api_version", "commcred.yaml:1:13"),
        ("invalid_tenant", "commcred.yaml:2:9"),
        ("invalid_usage_location", "commcred.yaml:3:23"),
        ("too_many_decimals", "commcred.yaml:7:19"),
        ("auto_recharge_incomplete", "commcred.yaml:9:14"),
        ("agreement_number_required", "commcred.yaml:11:13"),
        ("unknown_license", "commcred.yaml:14:33"),
        ("unknown_profile", "commcred.yaml:18:14"),
        ("csv_unknown_column", "sales.csv:1:19"),
        ("duplicate_user", "sales.csv:2:1"),
        ("invalid_upn", "sales.csv:3:1"),
        ("invalid_usage_location", "sales.csv:3:5"),
        ("unknown_key", "commcred.yaml:21:1"),
    ];
    let found = blocks(&run.stderr);
    assert_eq!(found.len(), expected.len(), "{}", run.stderr);
    for (block, (code, place)) in found.iter().zip(expected) {
        assert!(
            block.starts_with(&format!("commcred::config::{code}")) && block.contains(place),
            "expected {code} at {place}, found:\n{block}"
        );
    }
}

// --- one test per diagnostic -----------------------------------------------------------

#[test]
fn io() {
    let dir = tempfile::tempdir().unwrap();
    let run = run_in(dir.path(), &["validate"]);
    assert_eq!(run.code, 1);
    assert!(
        run.stderr.contains("commcred::config::io"),
        "{}",
        run.stderr
    );
    assert!(run.stderr.contains("commcred.yaml"), "{}", run.stderr);
}

#[test]
fn not_utf8() {
    let mut yaml = HEAD.as_bytes().to_vec();
    yaml.extend_from_slice(b"prune: \xff\n");
    let run = validate(&[("commcred.yaml", &yaml)]);
    assert_problem(&run, "not_utf8", "commcred.yaml:3:8");
}

#[test]
fn syntax() {
    assert_only("apiVersion: commcred/v1\ntenant: a: b\n", "syntax", "2:10");
}

#[test]
fn duplicate_key() {
    assert_only(
        &format!("{HEAD}prune: true\nprune: false\n"),
        "duplicate_key",
        "4:1",
    );
}

#[test]
fn budget_exceeded_by_an_alias_bomb() {
    let mut yaml = format!("{HEAD}x:\n  a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n");
    for level in 1..10u8 {
        let prev = (b'a' + level - 1) as char;
        let this = (b'a' + level) as char;
        let refs = vec![format!("*{prev}"); 9].join(", ");
        yaml.push_str(&format!("  {this}: &{this} [{refs}]\n"));
    }
    let run = validate(&[("commcred.yaml", yaml.as_bytes())]);
    assert_eq!(blocks(&run.stderr).len(), 1, "{}", run.stderr);
    let block = assert_problem(&run, "budget_exceeded", "commcred.yaml:8:10");
    assert!(block.contains("alias"), "{block}");
}

#[test]
fn unknown_key_suggests_the_closest() {
    let block = assert_only(&format!("{HEAD}prun: true\n"), "unknown_key", "3:1");
    assert!(block.contains("did you mean `prune`?"), "{block}");
}

#[test]
fn missing_key() {
    let block = assert_only("apiVersion: commcred/v1\n", "missing_key", "1:1");
    assert!(block.contains("`tenant`"), "{block}");
}

#[test]
fn wrong_type() {
    assert_only(&format!("{HEAD}prune: yes\n"), "wrong_type", "3:8");
}

#[test]
fn api_version() {
    let block = assert_only(
        "apiVersion: commcred/v2\ntenant: contoso.onmicrosoft.com\n",
        "api_version",
        "1:13",
    );
    assert!(block.contains("commcred/v1"), "{block}");
}

#[test]
fn invalid_tenant() {
    assert_only(
        "apiVersion: commcred/v1\ntenant: contoso\n",
        "invalid_tenant",
        "2:9",
    );
}

#[test]
fn invalid_backend() {
    assert_only(
        &format!("{HEAD}backend:\n  file: tenant.json\n  graph: true\n"),
        "invalid_backend",
        "5:3",
    );
}

#[test]
fn invalid_user_entry() {
    let yaml = format!("{HEAD}users:\n  - upn: a@contoso.com\n    csv: a.csv\n");
    let run = validate(&[("commcred.yaml", yaml.as_bytes()), ("a.csv", b"upn\n")]);
    assert_problem(&run, "invalid_user_entry", "commcred.yaml:4:5");
}

#[test]
fn unknown_license_suggests_the_friendly_name() {
    let block = assert_only(
        &format!("{HEAD}users:\n  - upn: a@contoso.com\n    licenses: [MCOEV, phoneSytem]\n"),
        "unknown_license",
        "5:23",
    );
    assert!(block.contains("did you mean `phoneSystem`?"), "{block}");
}

#[test]
fn unknown_profile() {
    let block = assert_only(
        &format!(
            "{HEAD}profiles:\n  dial-out: [audioConferencing]\n\
             users:\n  - upn: a@contoso.com\n    profile: dialout\n"
        ),
        "unknown_profile",
        "7:14",
    );
    assert!(block.contains("did you mean `dial-out`?"), "{block}");
}

#[test]
fn duplicate_user_in_the_yaml_shows_both_places() {
    let block = assert_only(
        &format!("{HEAD}users:\n  - upn: alice@contoso.com\n  - upn: Alice@Contoso.com\n"),
        "duplicate_user",
        "5:10",
    );
    assert!(block.contains("listed again here"), "{block}");
    assert!(block.contains("first listed here"), "{block}");
    assert!(block.contains("commcred.yaml:4:10"), "{block}");
}

#[test]
fn duplicate_user_across_yaml_and_csv_shows_both_places() {
    let yaml = format!("{HEAD}users:\n  - csv: people/team.csv\n  - upn: bob@contoso.com\n");
    let csv = b"upn\nalice@contoso.com\nBOB@contoso.com\n";
    let run = validate(&[("commcred.yaml", yaml.as_bytes()), ("people/team.csv", csv)]);
    let block = assert_problem(&run, "duplicate_user", "commcred.yaml:5:10");
    // The other place, as a note with its own snippet.
    assert!(block.contains("[people/team.csv:3:1]"), "{block}");
}

#[test]
fn invalid_upn() {
    assert_only(
        &format!("{HEAD}users:\n  - upn: alice.contoso.com\n"),
        "invalid_upn",
        "4:10",
    );
}

#[test]
fn invalid_usage_location_in_lower_case() {
    let block = assert_only(
        &format!("{HEAD}defaultUsageLocation: us\n"),
        "invalid_usage_location",
        "3:23",
    );
    assert!(block.contains("`US`"), "{block}");
}

#[test]
fn invalid_currency() {
    assert_only(
        &format!("{HEAD}communicationsCredits:\n  currency: DOLLARS\n"),
        "invalid_currency",
        "4:13",
    );
}

#[test]
fn invalid_amount() {
    assert_only(
        &credits("  minimumBalance: 1,000"),
        "invalid_amount",
        "5:19",
    );
}

#[test]
fn negative_amount() {
    assert_only(
        &credits("  minimumBalance: -10.00"),
        "negative_amount",
        "5:19",
    );
}

#[test]
fn amount_not_positive() {
    assert_only(
        &credits("  autoRecharge:\n    enabled: true\n    triggerBelow: 10\n    rechargeAmount: 0"),
        "amount_not_positive",
        "8:21",
    );
}

#[test]
fn too_many_decimals_for_usd() {
    assert_only(
        &credits("  minimumBalance: 10.505"),
        "too_many_decimals",
        "5:19",
    );
}

#[test]
fn too_many_decimals_for_jpy() {
    assert_only(
        &format!("{HEAD}communicationsCredits:\n  currency: JPY\n  minimumBalance: 1000.5\n"),
        "too_many_decimals",
        "5:19",
    );
}

#[test]
fn auto_recharge_incomplete() {
    let block = assert_only(
        &credits("  autoRecharge:\n    enabled: true\n    rechargeAmount: 250.00"),
        "auto_recharge_incomplete",
        "6:14",
    );
    assert!(block.contains("`triggerBelow`"), "{block}");
}

#[test]
fn agreement_number_required() {
    assert_only(
        &credits("  payment:\n    method: enterpriseAgreement\n    purchaseOrder: PO-1"),
        "agreement_number_required",
        "6:13",
    );
}

#[test]
fn invalid_payment_method() {
    let block = assert_only(
        &credits("  payment:\n    method: creditcard"),
        "invalid_payment_method",
        "6:13",
    );
    assert!(block.contains("`creditCard`"), "{block}");
}

#[test]
fn csv_unreadable() {
    assert_only(
        &format!("{HEAD}users:\n  - csv: missing.csv\n"),
        "csv_unreadable",
        "4:10",
    );
}

/// Runs validate on a config whose users come from `users.csv` holding `csv`.
fn with_csv(csv: &[u8]) -> Run {
    let yaml =
        format!("{HEAD}profiles:\n  dial-out: [audioConferencing]\nusers:\n  - csv: users.csv\n");
    validate(&[("commcred.yaml", yaml.as_bytes()), ("users.csv", csv)])
}

#[test]
fn csv_malformed() {
    let run = with_csv(b"upn,profile\na@contoso.com,dial-out,extra\n");
    assert_problem(&run, "csv_malformed", "users.csv:2:24");
}

#[test]
fn csv_missing_upn_column() {
    let run = with_csv(b"email,profile\na@contoso.com,dial-out\n");
    assert_problem(&run, "csv_missing_upn_column", "users.csv:1:1");
}

#[test]
fn csv_unknown_column() {
    let run = with_csv(b"upn,usagelocaton\na@contoso.com,US\n");
    let block = assert_problem(&run, "csv_unknown_column", "users.csv:1:5");
    assert!(block.contains("`usageLocation`"), "{block}");
}

#[test]
fn csv_duplicate_column() {
    let run = with_csv(b"upn,profile,Profile\na@contoso.com,dial-out,dial-out\n");
    assert_problem(&run, "csv_duplicate_column", "users.csv:1:13");
}

#[test]
fn csv_missing_upn() {
    let run = with_csv(b"upn,profile\na@contoso.com,dial-out\n,dial-out\n");
    assert_problem(&run, "csv_missing_upn", "users.csv:3:1");
}

#[test]
fn bad_values_in_a_csv_point_into_the_csv() {
    let run = with_csv(
        b"upn,usageLocation,profile,licenses\nb@contoso.com,gb,dialout,MCOEV;phoneSytem\n",
    );
    assert_eq!(blocks(&run.stderr).len(), 3, "{}", run.stderr);
    let block = assert_problem(&run, "invalid_usage_location", "users.csv:2:15");
    assert!(block.contains("`GB`"), "{block}");
    assert_problem(&run, "unknown_profile", "users.csv:2:18");
    assert_problem(&run, "unknown_license", "users.csv:2:32");
}
