//! The shape of a price list file (`prices: FILE` in commcred.yaml) as plain serde types,
//! for `schemas/prices.schema.json` (`commcred schema --prices`). Validation with spans is
//! `validate/prices.rs`.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Serialize};

use super::schema::{Amount, Currency};

/// The schema's `$id`: a name, not a place to download it from.
pub const SCHEMA_ID: &str = "urn:commcred:schema:prices.yaml:v1";

/// Where the schema lives in the repository, relative to its root.
pub const SCHEMA_PATH: &str = "schemas/prices.schema.json";

/// A price list: what one seat of each SKU costs the tenant per month, under its agreement.
/// Microsoft publishes no price API a customer can call; copy the prices from the agreement
/// or the invoice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "commcred price list")]
pub struct PriceListDocument {
    /// ISO 4217 currency of every price, e.g. `USD`.
    pub currency: Currency,
    /// The date the prices were read from the agreement (YYYY-MM-DD), shown with every cost.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Date")]
    pub as_of: Option<String>,
    /// Monthly price per seat by SKU part number as `subscribedSkus` lists it (`MCOEV`,
    /// `MCOPSTN1`): a plain amount, or `{monthly: AMOUNT, term: monthly | annual}`.
    pub skus: BTreeMap<String, Price>,
}

/// A monthly price per seat, or one with its commitment term.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Price {
    Monthly(Amount),
    WithTerm {
        monthly: Amount,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        term: Option<crate::config::Term>,
    },
}

impl JsonSchema for Price {
    fn schema_name() -> Cow<'static, str> {
        "Price".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let amount = generator.subschema_for::<Amount>();
        json_schema!({
            "description": "The monthly price of one seat: `10.00`, or `{monthly: 12.00, term: annual}` (term: `monthly`, the default, or `annual`).",
            "anyOf": [
                amount,
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["monthly"],
                    "properties": {
                        "monthly": amount,
                        "term": {
                            "description": "The subscription's commitment: `monthly` (default) or `annual` (seats freed are saved at renewal).",
                            "enum": ["monthly", "annual"]
                        }
                    }
                }
            ]
        })
    }
}

/// `YYYY-MM-DD`.
struct Date;

impl JsonSchema for Date {
    fn schema_name() -> Cow<'static, str> {
        "Date".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({"type": "string", "format": "date", "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}$"})
    }
}

/// The JSON Schema of a price list (draft 2020-12) with its `$id`.
pub fn json_schema() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<PriceListDocument>();
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema
}

/// The schema as committed in `schemas/prices.schema.json`: pretty JSON, final newline.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).expect("schemas serialize");
    text.push('\n');
    text
}
