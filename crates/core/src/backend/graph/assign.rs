//! The body of Graph's `assignLicense`, for users and groups alike ("user: assignLicense",
//! "group: assignLicense", Graph v1.0): `addLicenses` (each a `skuId` with the
//! `disabledPlans` to switch off) and `removeLicenses` (SKU ids). One type, so the three
//! places that send it cannot drift apart.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AssignLicense {
    pub add_licenses: Vec<AddLicense>,
    pub remove_licenses: Vec<String>,
}

/// One entry of `addLicenses`. Graph requires `disabledPlans`, even when empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AddLicense {
    pub sku_id: String,
    pub disabled_plans: Vec<String>,
}

impl AssignLicense {
    /// Adds `add` with every service plan enabled and removes `remove`.
    pub fn new<A: AsRef<str>, R: AsRef<str>>(add: &[A], remove: &[R]) -> AssignLicense {
        AssignLicense {
            add_licenses: add
                .iter()
                .map(|id| AddLicense {
                    sku_id: id.as_ref().to_string(),
                    disabled_plans: Vec::new(),
                })
                .collect(),
            remove_licenses: remove.iter().map(|id| id.as_ref().to_string()).collect(),
        }
    }

    pub fn to_value(&self) -> Value {
        serde_json::to_value(self).expect("assignLicense bodies serialize")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The shape of Graph's reference example ("user: assignLicense", request body).
    #[test]
    fn serializes_as_graph_documents_it() {
        let mut body = AssignLicense::new(&["sku-a"], &["sku-b"]);
        body.add_licenses[0].disabled_plans = vec!["plan-1".into()];
        assert_eq!(
            body.to_value(),
            json!({
                "addLicenses": [{"skuId": "sku-a", "disabledPlans": ["plan-1"]}],
                "removeLicenses": ["sku-b"],
            })
        );
        let empty: [&str; 0] = [];
        assert_eq!(
            AssignLicense::new(&empty, &["x"]).to_value(),
            json!({"addLicenses": [], "removeLicenses": ["x"]})
        );
    }
}
