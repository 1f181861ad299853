//! The drift report's two outputs: a unified diff of two YAML documents (people, and the
//! daily job's log), and JSON (pipelines).

use std::fmt::Write as _;

use similar::TextDiff;

use super::{Drift, SettingDrift, UserDrift};

/// `format_version` of the JSON report; raised when a field changes meaning.
pub const FORMAT_VERSION: u32 = 1;

impl Drift {
    /// What the config says, for the users and settings that differ.
    pub fn config_yaml(&self) -> String {
        self.yaml(|s| &s.config, |s| &s.config, |u| &u.licenses.config)
    }

    /// What the live tenant has, for the same users and settings.
    pub fn live_yaml(&self) -> String {
        self.yaml(|s| &s.live, |s| &s.live, |u| &u.licenses.live)
    }

    fn yaml(
        &self,
        setting: impl Fn(&SettingDrift) -> &Option<String>,
        location: impl Fn(&super::Side<Option<String>>) -> &Option<String>,
        licenses: impl Fn(&UserDrift) -> &Vec<String>,
    ) -> String {
        let mut out = format!("tenant: {}\n", self.tenant);
        if !self.users.is_empty() {
            out.push_str("users:\n");
        }
        for u in &self.users {
            let _ = writeln!(out, "  - upn: {}", u.upn);
            if let Some(l) = location(&u.usage_location) {
                let _ = writeln!(out, "    usageLocation: {l}");
            }
            if let Some(phone) = &u.phone_number {
                let number = location(phone).as_deref().unwrap_or("null");
                let _ = writeln!(out, "    phoneNumber: {number}");
            }
            let names = licenses(u);
            if names.is_empty() {
                out.push_str("    licenses: []\n");
            } else {
                out.push_str("    licenses:\n");
                for name in names {
                    let _ = writeln!(out, "      - {name}");
                }
            }
        }
        if !self.communications_credits.is_empty() {
            out.push_str("communicationsCredits:\n");
        }
        // `autoRecharge.enabled` is shown nested under `autoRecharge:`, as in commcred.yaml.
        let mut group: Option<&str> = None;
        for s in &self.communications_credits {
            let value = setting(s).as_deref().unwrap_or("null");
            match s.setting.split_once('.') {
                Some((parent, leaf)) => {
                    if group != Some(parent) {
                        let _ = writeln!(out, "  {parent}:");
                        group = Some(parent);
                    }
                    let _ = writeln!(out, "    {leaf}: {value}");
                }
                None => {
                    group = None;
                    let _ = writeln!(out, "  {}: {value}", s.setting);
                }
            }
        }
        out
    }

    /// `--- CONFIG` / `+++ LIVE`: a `+` line is what the tenant has and the config does not.
    pub fn unified_diff(&self, config_name: &str, live_name: &str) -> String {
        let (config, live) = (self.config_yaml(), self.live_yaml());
        TextDiff::from_lines(&config, &live)
            .unified_diff()
            .context_radius(3)
            .header(config_name, live_name)
            .to_string()
    }

    /// The JSON report: `format_version`, `drift`, the per-user and per-setting lists and
    /// the diff text.
    pub fn to_json(&self, config_name: &str, live_name: &str) -> serde_json::Value {
        serde_json::json!({
            "format_version": FORMAT_VERSION,
            "drift": !self.is_empty(),
            "config": config_name,
            "live": live_name,
            "tenant": self.tenant,
            "users": self.users,
            "communicationsCredits": self.communications_credits,
            "diff": self.unified_diff(config_name, live_name),
        })
    }
}
