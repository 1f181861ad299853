//! Many tenants from one workspace file, through the binary, one emulator per tenant: 20
//! tenants, one with a broken config, one throttled on every request, one signing in to a
//! tenant id that is not its own. The plan names the three failures and the 17 plans;
//! applying the saved plans converges the 17 and leaves the three untouched; planning again
//! finds nothing to do for the 17. Shared profiles come from a base file (`profilesFrom`).

use std::path::{Path, PathBuf};

use commcred_emulator::Emulator;
use serde_json::Value;

use crate::emulator::{TENANT_DOMAIN, start};
use crate::graph::quickstart_without_credits;

const BROKEN: usize = 4;
const THROTTLED: usize = 9;
const WRONG_TENANT: usize = 15;
const FEDERATED: usize = 1;

fn name(i: usize) -> String {
    format!("t{i:02}")
}

struct Fleet {
    root: tempfile::TempDir,
    workspace: PathBuf,
    emulators: Vec<Emulator>,
    env: Vec<(String, String)>,
}

/// 20 copies of the quickstart (without credits: Graph has no credits API), each served by
/// its own emulator, each config's profiles coming from one shared base file.
fn fleet() -> Fleet {
    let root = tempfile::tempdir().unwrap();
    let base_profiles = "apiVersion: commcred/v1\nprofiles:\n  dial-out: [audioConferencing, communicationsCredits]\n  intl-phone: [phoneSystem, internationalCallingPlan, communicationsCredits]\n  us-phone: [phoneSystem, domesticCallingPlan, communicationsCredits]\n";
    std::fs::write(root.path().join("baseline.yaml"), base_profiles).unwrap();
    let mut ws = String::from("apiVersion: commcred/v1\ntenants:\n");
    let mut emulators = Vec::new();
    let mut env = Vec::new();
    for i in 0..20 {
        let copy = quickstart_without_credits();
        let dir = root.path().join(name(i));
        std::fs::rename(copy.path(), &dir)
            .or_else(|_| copy_dir(copy.path(), &dir))
            .unwrap();
        let emulator = start(&dir.join("tenant.json"), |c| {
            if i == THROTTLED {
                c.faults.throttle_rate = 1.0;
                c.faults.retry_after_secs = 0;
            }
        });
        let yaml_path = dir.join("commcred.yaml");
        let yaml = std::fs::read_to_string(&yaml_path).unwrap();
        // The tenant's own profiles are replaced by the shared baseline's.
        let start_profiles = yaml.find("profiles:").unwrap();
        let end_profiles = yaml.find("users:").unwrap();
        let mut yaml = format!(
            "{}profilesFrom: ../baseline.yaml\n\n{}",
            &yaml[..start_profiles],
            &yaml[end_profiles..]
        )
        .replace(
            "backend:\n  file: tenant.json",
            &format!("backend:\n  graph: {}", emulator.base_url()),
        );
        if i == BROKEN {
            yaml = yaml.replace("prune:", "prunne:");
            yaml.push_str("\nlicence: [oops]\n");
        }
        std::fs::write(&yaml_path, yaml).unwrap();
        let var = |what: &str| format!("T{i:02}_{what}");
        let tenant_id = if i == WRONG_TENANT {
            "fabrikam.onmicrosoft.com"
        } else {
            TENANT_DOMAIN
        };
        env.push((var("TENANT"), tenant_id.to_string()));
        env.push((var("CLIENT"), format!("app-{i}")));
        let auth = if i == FEDERATED {
            let token = root.path().join("federated.jwt");
            std::fs::write(&token, federated_token()).unwrap();
            env.push((var("TOKEN"), token.display().to_string()));
            format!("federatedTokenFileEnv: {}", var("TOKEN"))
        } else {
            env.push((var("SECRET"), format!("secret-{i}")));
            format!("clientSecretEnv: {}", var("SECRET"))
        };
        ws.push_str(&format!(
            "  - name: {}\n    config: {}/commcred.yaml\n    tags: [{}]\n    auth: {{tenantIdEnv: {}, clientIdEnv: {}, {auth}}}\n",
            name(i),
            name(i),
            if i % 2 == 0 { "even" } else { "odd" },
            var("TENANT"),
            var("CLIENT"),
        ));
        emulators.push(emulator);
    }
    let workspace = root.path().join("workspace.yaml");
    std::fs::write(&workspace, ws).unwrap();
    Fleet {
        root,
        workspace,
        emulators,
        env,
    }
}

fn copy_dir(from: &Path, to: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), target)?;
        }
    }
    Ok(())
}

fn federated_token() -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let exp = chrono::Utc::now().timestamp() + 3600;
    format!(
        "{}.{}.c2ln",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"RS256","typ":"JWT"}"#),
        URL_SAFE_NO_PAD.encode(format!(
            r#"{{"aud":"api://AzureADTokenExchange","exp":{exp},"sub":"ci"}}"#
        ))
    )
}

impl Fleet {
    fn run(&self, args: &[&str]) -> (Option<i32>, String, String) {
        let mut cmd = crate::common::commcred(self.root.path());
        for var in [
            "COMMCRED_BACKEND",
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
        ] {
            cmd.env_remove(var);
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.args(args);
        // The throttled tenant is answered 429 on every request: its reads give up at the
        // deadline (`graph::read_throttled`) instead of the 2 h default without a terminal.
        if matches!(args.first(), Some(&"plan") | Some(&"apply")) {
            cmd.args(["--timeout", "5s"]);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    }

    fn licenses(&self, i: usize) -> Value {
        let s = self.emulators[i].snapshot();
        serde_json::to_value(&s.users).unwrap()
    }
}

#[test]
fn workspace_of_20_tenants_plans_applies_and_converges_17_and_isolates_3_failures() {
    let fleet = fleet();
    let ws = fleet.workspace.to_str().unwrap();
    let failed = [name(BROKEN), name(THROTTLED), name(WRONG_TENANT)];

    let (code, stdout, stderr) = fleet.run(&["plan", "--workspace", ws, "--out", "plans"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("20 tenant(s): 17 planned (17 with changes), 3 failed"),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Failed (3): {}", failed.join(", "))),
        "{stdout}"
    );
    // Each failure says why, with its own code.
    let line = |n: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(n))
            .unwrap()
            .to_string()
    };
    assert!(
        line(&name(BROKEN)).contains("commcred::config::invalid"),
        "{stdout}"
    );
    assert!(
        line(&name(WRONG_TENANT)).contains("commcred::backend::auth"),
        "{stdout}"
    );
    assert!(stdout.contains("AADSTS90002"), "{stdout}");
    assert!(line(&name(THROTTLED)).contains("FAILED"), "{stdout}");
    assert!(
        line(&name(THROTTLED)).contains("commcred::graph::read_throttled"),
        "{stdout}"
    );
    assert!(
        stdout.contains("unknown key") || stdout.contains("prunne"),
        "{stdout}"
    );
    let plans = fleet.root.path().join("plans");
    for i in 0..20 {
        let saved = plans.join(format!("{}.json", name(i)));
        assert_eq!(
            saved.exists(),
            !failed.contains(&name(i)),
            "{}",
            saved.display()
        );
    }
    // No secret of any tenant reaches the output or a plan.
    for (k, v) in &fleet.env {
        if k.ends_with("_SECRET") {
            assert!(!stdout.contains(v.as_str()) && !stderr.contains(v.as_str()));
            for i in 0..20 {
                if let Ok(text) = std::fs::read_to_string(plans.join(format!("{}.json", name(i)))) {
                    assert!(!text.contains(v.as_str()));
                }
            }
        }
    }

    let before: Vec<Value> = (0..20).map(|i| fleet.licenses(i)).collect();
    let (code, stdout, stderr) = fleet.run(&["apply", "--workspace", ws, "plans"]);
    assert_eq!(code, Some(1), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("20 tenant(s): 17 applied, 3 failed"),
        "{stdout}"
    );
    for (i, before) in before.iter().enumerate() {
        let after = fleet.licenses(i);
        if failed.contains(&name(i)) {
            assert_eq!(&after, before, "{} changed", name(i));
        } else {
            assert_ne!(&after, before, "{} did not change", name(i));
        }
    }

    // Planning again: nothing left for the 17; the three still fail, each for its reason.
    let (code, stdout, _) = fleet.run(&["plan", "--workspace", ws, "--format", "json"]);
    assert_eq!(code, Some(1));
    let doc: Value = serde_json::from_str(&stdout).unwrap();
    for t in doc["tenants"].as_array().unwrap() {
        let n = t["name"].as_str().unwrap();
        let expected = if failed.iter().any(|f| f == n) {
            "failed"
        } else {
            "no_changes"
        };
        assert_eq!(t["status"], expected, "{t}");
    }
    assert_eq!(doc["summary"]["planned"], 17);
    // Only the 17 (selected by name): exit 0, nothing to do.
    let healthy: Vec<String> = (0..20).map(name).filter(|n| !failed.contains(n)).collect();
    let (code, stdout, _) =
        fleet.run(&["plan", "--workspace", ws, "--tenants", &healthy.join(",")]);
    assert_eq!(code, Some(0), "{stdout}");
}

#[test]
fn workspace_selection_tags_markdown_and_fail_fast() {
    let fleet = fleet();
    let ws = fleet.workspace.to_str().unwrap();
    // Tag `odd` without the throttled tenant: 9 tenants, all with changes.
    let (code, stdout, _) = fleet.run(&[
        "plan",
        "--workspace",
        ws,
        "--tag",
        "odd",
        "--tenants",
        "t01,t03,t05,t07,t11",
        "--format",
        "markdown",
    ]);
    assert_eq!(code, Some(2), "{stdout}");
    assert!(stdout.contains("| `t01` | changes |"), "{stdout}");
    assert!(
        stdout.contains("5 tenant(s): 5 planned (5 with changes), 0 failed"),
        "{stdout}"
    );
    // An unknown name is refused, naming the ones there are.
    let (code, _, stderr) = fleet.run(&["plan", "--workspace", ws, "--tenants", "t99"]);
    assert_eq!(code, Some(1));
    assert!(
        stderr.contains("commcred::workspace::selection") && stderr.contains("t00"),
        "{stderr}"
    );
    // --fail-fast with one at a time: the broken t04 stops the tenants after it.
    let (code, stdout, _) = fleet.run(&[
        "apply",
        "--workspace",
        ws,
        "--auto-approve",
        "--parallel",
        "1",
        "--fail-fast",
    ]);
    assert_eq!(code, Some(1));
    assert!(
        stdout.contains("4 applied, 1 failed, 15 not started"),
        "{stdout}"
    );
}
