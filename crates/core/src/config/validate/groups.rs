//! `groups` and `prefer`: the groups whose licenses commcred manages (group-based licensing).
//! A group is named by `id` or by `displayName` (resolved against the tenant at plan time);
//! its `licenses` are friendly names, part numbers, profile names, or maps with
//! `disabledPlans`.

use std::collections::{BTreeSet, HashMap};

use super::Walker;
use crate::base::licenses::LicenseName;
use crate::config::checks;
use crate::config::diagnostics::Code;
use crate::config::fields::{self, Fields};
use crate::config::model::*;
use crate::config::node::{Node, Value};

const GROUP_KEYS: &[&str] = &["id", "displayName", "licenses", "profile"];
const LICENSE_KEYS: &[&str] = &["license", "disabledPlans"];
const EXAMPLE: &str = "- displayName: Sales Phones\n  licenses: [phoneSystem, domesticCallingPlan]";

impl Walker<'_, '_> {
    pub(super) fn groups(&mut self, node: &Node) -> Vec<DesiredGroup> {
        let mut out = Vec::new();
        let Some(items) = fields::list(&mut self.cx, node, "groups", EXAMPLE) else {
            return out;
        };
        // Lower-cased key -> the node that first named it, for "listed twice".
        let mut seen: HashMap<String, &Node> = HashMap::new();
        for item in items {
            let Some(fields) = Fields::open(&mut self.cx, item, "a group", GROUP_KEYS, EXAMPLE)
            else {
                continue;
            };
            let Some((key, key_node)) = self.group_key(item, &fields) else {
                continue;
            };
            let folded = match &key {
                GroupKey::Id(id) => format!("id:{}", id.to_ascii_lowercase()),
                GroupKey::DisplayName(n) => format!("name:{}", n.to_lowercase()),
            };
            if let Some(first) = seen.get(&folded) {
                let problem = self
                    .cx
                    .problem(
                        Code::DuplicateGroup,
                        key_node,
                        format!("{key} is listed twice"),
                        "listed again here",
                    )
                    .also(first.span, "first listed here")
                    .help("list each group once: merge the two entries' licenses");
                self.cx.report(problem);
                continue;
            }
            seen.insert(folded, key_node);
            let mut licenses: BTreeSet<GroupLicense> = fields
                .get("profile")
                .map(|node| self.yaml_profile(node))
                .unwrap_or_default()
                .into_iter()
                .map(|name| GroupLicense {
                    name,
                    disabled_plans: Vec::new(),
                })
                .collect();
            if let Some(node) = fields.get("licenses") {
                licenses.extend(self.group_licenses(node));
            }
            let origin = self.origin_yaml(key_node);
            out.push(DesiredGroup {
                key,
                licenses: licenses.into_iter().collect(),
                origin,
            });
        }
        out
    }

    /// Exactly one of `id` and `displayName`.
    fn group_key<'n>(
        &mut self,
        item: &'n Node,
        fields: &Fields<'n>,
    ) -> Option<(GroupKey, &'n Node)> {
        match (fields.entry("id"), fields.entry("displayName")) {
            (Some(_), Some((name_key, _))) => {
                let problem = self
                    .cx
                    .problem(
                        Code::InvalidGroupEntry,
                        name_key,
                        "a group has both `id` and `displayName`",
                        "second name",
                    )
                    .help("name the group once: by `id` (its object id) or by `displayName`");
                self.cx.report(problem);
                None
            }
            (None, None) => {
                let problem = self
                    .cx
                    .problem(
                        Code::MissingKey,
                        item,
                        "a group needs `id` or `displayName`",
                        "neither `id` nor `displayName`",
                    )
                    .help("add `displayName: Sales Phones` or `id: <the group's object id>`");
                self.cx.report(problem);
                None
            }
            (Some((_, node)), None) => {
                let id = fields::string(&mut self.cx, node, "id", "id: 5a1e5000-…")?;
                if id.trim().is_empty() {
                    self.empty_group_name(node, "id");
                    return None;
                }
                Some((GroupKey::Id(id.to_string()), node))
            }
            (None, Some((_, node))) => {
                let name = fields::string(
                    &mut self.cx,
                    node,
                    "displayName",
                    "displayName: Sales Phones",
                )?;
                if name.trim().is_empty() {
                    self.empty_group_name(node, "displayName");
                    return None;
                }
                Some((GroupKey::DisplayName(name.to_string()), node))
            }
        }
    }

    fn empty_group_name(&mut self, node: &Node, key: &str) {
        let problem = self
            .cx
            .problem(
                Code::InvalidGroupEntry,
                node,
                format!("`{key}` is empty"),
                "empty",
            )
            .help("write the group's object id or display name");
        self.cx.report(problem);
    }

    /// A group's `licenses`: names (friendly, part number or profile) or
    /// `{license: NAME, disabledPlans: [...]}`.
    fn group_licenses(&mut self, node: &Node) -> Vec<GroupLicense> {
        let mut out = Vec::new();
        let example =
            "licenses: [phoneSystem, {license: MCOEV, disabledPlans: [MCOEV_VIRTUALUSER]}]";
        let Some(items) = fields::list(&mut self.cx, node, "licenses", example) else {
            return out;
        };
        for item in items {
            if let Value::Map(_) = &item.value {
                out.extend(self.group_license_map(item));
                continue;
            }
            let Some(name) = fields::string(&mut self.cx, item, "license", example) else {
                continue;
            };
            if let Some(profile) = self.profiles.get(name) {
                out.extend(profile.iter().map(|n| GroupLicense {
                    name: n.clone(),
                    disabled_plans: Vec::new(),
                }));
                continue;
            }
            if let Some(name) = self.one_license(item, name) {
                out.push(GroupLicense {
                    name,
                    disabled_plans: Vec::new(),
                });
            }
        }
        out
    }

    fn group_license_map(&mut self, item: &Node) -> Option<GroupLicense> {
        let example = "{license: MCOEV, disabledPlans: [MCOEV_VIRTUALUSER]}";
        let fields = Fields::open(&mut self.cx, item, "a group license", LICENSE_KEYS, example)?;
        let node = fields.require(&mut self.cx, "license", "license: phoneSystem")?;
        let text = fields::string(&mut self.cx, node, "license", example)?;
        let name = self.one_license(node, text);
        let mut disabled_plans = Vec::new();
        if let Some(plans) = fields.get("disabledPlans")
            && let Some(items) = fields::list(&mut self.cx, plans, "disabledPlans", example)
        {
            for plan in items {
                if let Some(p) = fields::string(&mut self.cx, plan, "disabledPlans", example) {
                    disabled_plans.push(p.to_string());
                }
            }
        }
        disabled_plans.sort();
        disabled_plans.dedup();
        Some(GroupLicense {
            name: name?,
            disabled_plans,
        })
    }

    fn one_license(&mut self, node: &Node, name: &str) -> Option<LicenseName> {
        match checks::license(name) {
            Ok(license) => Some(license),
            Err(help) => {
                let problem = self
                    .cx
                    .problem(
                        Code::UnknownLicense,
                        node,
                        format!("unknown license `{name}`"),
                        "unknown license",
                    )
                    .help(format!("{help}; a profile name also works here"));
                self.cx.report(problem);
                None
            }
        }
    }

    /// `prefer: groups` (or the default, `direct`).
    pub(super) fn prefer(&mut self, node: &Node) -> bool {
        let Some(text) = fields::string(&mut self.cx, node, "prefer", "prefer: groups") else {
            return false;
        };
        match text {
            "groups" => true,
            "direct" => false,
            other => {
                let problem = self
                    .cx
                    .problem(
                        Code::InvalidPrefer,
                        node,
                        format!("`prefer: {other}` is not a choice"),
                        "expected `groups` or `direct`",
                    )
                    .help(
                        "`prefer: groups` drops direct copies once a managed group provides \
                         them; `direct` (the default) keeps them",
                    );
                self.cx.report(problem);
                false
            }
        }
    }
}
