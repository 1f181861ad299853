//! The shape of `commcred.yaml` (SPEC §3) as plain serde types, for two uses only: generating
//! `schemas/commcred.schema.json` (editors validate and complete with it) and giving
//! `commcred export` a typed document to write. Parsing and validation live elsewhere
//! (`config::load`), with spans and every problem reported; these types carry no spans.
//!
//! Doc comments become the schema's descriptions, which editors show on hover: write them
//! for the admin editing the YAML.

use std::borrow::Cow;
use std::collections::BTreeMap;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::base::codes::{currency_minor_units, is_country};
use crate::base::licenses::{Friendly, PAYG_PREFIX};

/// The only `apiVersion` this schema describes.
pub const API_VERSION: &str = "commcred/v1";

/// The schema's `$id`: a name for this version of the format, not a place to download it
/// from (commcred has no published home). Editors get the schema from a file: the committed
/// `schemas/commcred.schema.json`, or `commcred schema > commcred.schema.json`.
pub const SCHEMA_ID: &str = "urn:commcred:schema:commcred.yaml:v1";

/// Where `commcred export` points its modeline by default: a schema file beside the YAML,
/// as `commcred schema > commcred.schema.json` writes it.
pub const SCHEMA_BESIDE: &str = "commcred.schema.json";

/// Where the schema lives in the repository, relative to its root.
pub const SCHEMA_PATH: &str = "schemas/commcred.schema.json";

/// `commcred.yaml`: the desired Teams calling licenses and Communications Credits of one
/// Microsoft 365 tenant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(title = "commcred.yaml")]
pub struct Document {
    /// The format version. Always `commcred/v1`.
    pub api_version: ApiVersion,
    /// The live tenant's initial domain, e.g. `contoso.onmicrosoft.com`. commcred refuses to
    /// plan when the tenant it reads has another one.
    #[schemars(
        regex(
            pattern = r"^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)+$"
        ),
        length(max = 253)
    )]
    pub tenant: String,
    /// Where the live tenant is read from and changed. `--backend` (or `COMMCRED_BACKEND`)
    /// overrides it. Absent: `tenant.json` beside this file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Backend")]
    pub backend: Option<Backend>,
    /// Usage location given to listed users that need one (before a license is assigned) and
    /// declare none. Users that already have a usage location keep it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Country")]
    pub default_usage_location: Option<Country>,
    /// How the tenant pays for calls beyond included minutes, when the live state does not
    /// say (no credits account or ledger): `MOSA` (prepaid Communications Credits), `MCA`
    /// (billed on the invoice after use) or `CSP` (partner overage). Credits warnings, the
    /// outlook, `recommend` and the guided steps follow it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub billing_account: Option<BillingAccount>,
    /// The tenant's Communications Credits: minimum balance, auto-recharge and payment.
    /// Absent: commcred does not manage credits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Credits")]
    pub communications_credits: Option<Credits>,
    /// A shared file of profiles (its `profiles:` map), relative to this file: a baseline
    /// kept in one place for many tenants. This file's own `profiles` replace a shared
    /// profile of the same name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub profiles_from: Option<String>,
    /// Named license bundles that users refer to with `profile`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, Vec<License>>,
    /// The users whose managed licenses commcred sets: inline users and CSV sources, in order.
    /// A listed user's managed licenses become exactly its profile's plus its own.
    #[serde(default)]
    pub users: Vec<UserEntry>,
    /// Groups whose licenses commcred manages (group-based licensing): members inherit them,
    /// one seat per user and license however many paths assign it. A listed group's managed
    /// licenses become exactly the ones written; unlisted groups are left alone unless
    /// `prune: true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<GroupEntry>,
    /// `groups`: a direct assignment that a managed group also gives is removed, but only once
    /// the group's inherited assignment is active for that user. `direct` (default): direct
    /// assignments the users' entries list are kept.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefer: Option<Prefer>,
    /// `true`: remove the managed licenses (directly assigned ones) of every user not listed,
    /// and the managed licenses of every group not listed.
    /// `false` (default): unlisted users and groups are left alone.
    #[serde(default)]
    pub prune: bool,
    /// A price list file (relative to this file): monthly prices per seat by SKU part number,
    /// in one currency (`schemas/prices.schema.json`). With it, plans show the monthly cost
    /// of the seats they take and free, and `commcred waste` prices what is wasted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub prices: Option<String>,
}

/// The tenant's billing account type (Microsoft 365 admin center > Billing > Billing accounts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum BillingAccount {
    /// Microsoft Online Subscription Agreement (bought online, or paid with an Enterprise
    /// Agreement): prepaid Communications Credits.
    #[serde(rename = "MOSA")]
    Mosa,
    /// Microsoft Customer Agreement: usage billed on the invoice after use.
    #[serde(rename = "MCA")]
    Mca,
    /// Cloud Solution Provider: calls beyond included minutes are partner overage.
    #[serde(rename = "CSP")]
    Csp,
}

/// Whether direct copies give way to group-based licensing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Prefer {
    /// Drop direct copies once a managed group provides them.
    Groups,
    /// Keep direct assignments (the default).
    Direct,
}

/// A group, by object `id` or by `displayName` (exactly one; a display name shared by several
/// groups is an error listing their ids), with the licenses its members inherit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend("oneOf" = [{"required": ["id"]}, {"required": ["displayName"]}]))]
pub struct GroupEntry {
    /// The group's object id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub id: Option<String>,
    /// The group's display name (compared without case).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(min = 1))]
    pub display_name: Option<String>,
    /// A profile defined under `profiles`, added to `licenses`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub profile: Option<String>,
    /// The group's licenses: friendly names, part numbers, profile names, or
    /// `{license: NAME, disabledPlans: [PLAN]}` to switch service plans off.
    #[serde(default)]
    pub licenses: Vec<GroupLicense>,
}

/// A group license: a name (friendly name, part number or profile), or one with plans off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum GroupLicense {
    Name(License),
    WithPlans {
        license: License,
        #[serde(
            rename = "disabledPlans",
            default,
            skip_serializing_if = "Vec::is_empty"
        )]
        disabled_plans: Vec<String>,
    },
}

impl JsonSchema for GroupLicense {
    fn schema_name() -> Cow<'static, str> {
        "GroupLicense".into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        let license = generator.subschema_for::<License>();
        json_schema!({
            "description": "A license of the group: a friendly name, a SKU part number, a profile name, or a map with `disabledPlans`.",
            "anyOf": [
                license,
                {"type": "string", "description": "A profile defined under `profiles`."},
                {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["license"],
                    "properties": {
                        "license": license,
                        "disabledPlans": {
                            "type": "array",
                            "description": "Service plans switched off in the group's assignment, by name (e.g. MCOEV_VIRTUALUSER) or id.",
                            "items": {"type": "string", "minLength": 1}
                        }
                    }
                }
            ]
        })
    }
}

/// `commcred/v1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ApiVersion;

impl Serialize for ApiVersion {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(API_VERSION)
    }
}

impl<'de> Deserialize<'de> for ApiVersion {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        if text == API_VERSION {
            Ok(ApiVersion)
        } else {
            Err(serde::de::Error::custom(format!(
                "unsupported apiVersion `{text}`, expected `{API_VERSION}`"
            )))
        }
    }
}

impl JsonSchema for ApiVersion {
    fn schema_name() -> Cow<'static, str> {
        "ApiVersion".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "The format version. Always `commcred/v1`.",
            "const": API_VERSION
        })
    }
}

/// Which live tenant to use: the text form of `--backend`, or a map with `file` or `graph`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum Backend {
    /// `file:PATH` (a tenant snapshot), `graph` (Microsoft Graph) or `graph:BASE_URL`
    /// (another Graph root, such as `commcred emulator`).
    Text(
        #[schemars(regex(pattern = r"^(file:.+|graph|graph:https?://.+)$"))]
        String,
    ),
    Map(BackendMap),
}

/// `file: PATH` or `graph: true | URL`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum BackendMap {
    /// A tenant snapshot file (JSON shaped like Microsoft Graph), relative to this YAML.
    File(#[schemars(length(min = 1))] String),
    /// Microsoft Graph (`true`), or another Graph root such as the emulator
    /// (`http://127.0.0.1:PORT`). Credentials come from `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`
    /// and `AZURE_CLIENT_SECRET`, never from this file.
    Graph(GraphTarget),
}

/// `true` (or empty) for Microsoft Graph itself, or a base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GraphTarget {
    Microsoft,
    Url(String),
}

impl Serialize for GraphTarget {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            GraphTarget::Microsoft => s.serialize_bool(true),
            GraphTarget::Url(url) => s.serialize_str(url),
        }
    }
}

impl<'de> Deserialize<'de> for GraphTarget {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Flag(bool),
            Url(String),
        }
        match Option::<Raw>::deserialize(d)? {
            None | Some(Raw::Flag(true)) => Ok(GraphTarget::Microsoft),
            Some(Raw::Url(url)) => Ok(GraphTarget::Url(url)),
            Some(Raw::Flag(false)) => Err(serde::de::Error::custom(
                "`graph: false` selects nothing; use `file: tenant.json` instead",
            )),
        }
    }
}

impl JsonSchema for GraphTarget {
    fn schema_name() -> Cow<'static, str> {
        "GraphTarget".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "`true` for Microsoft Graph, or the base URL of another Graph root (an emulator).",
            "anyOf": [
                { "const": true, "description": "Microsoft Graph (https://graph.microsoft.com)." },
                { "type": "null", "description": "Same as `true`." },
                { "type": "string", "pattern": "^https?://", "description": "A Graph root, e.g. http://127.0.0.1:8080 (commcred emulator)." }
            ]
        })
    }
}

/// Communications Credits settings. Microsoft has no API for them: with Microsoft Graph the
/// plan shows them as manual steps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Credits {
    /// ISO 4217 currency of the billing account, e.g. `USD`. Amounts below are in it.
    pub currency: Currency,
    /// Keep the usable balance (unexpired funds) at least this high: when it is lower, the
    /// plan adds funds of exactly the difference. At most the currency's decimals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Amount")]
    pub minimum_balance: Option<Amount>,
    /// Microsoft's auto-recharge: add `rechargeAmount` whenever the balance falls below
    /// `triggerBelow`. Microsoft recommends turning it on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "AutoRecharge")]
    pub auto_recharge: Option<AutoRecharge>,
    /// How credits are paid for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Payment")]
    pub payment: Option<Payment>,
    /// The credits ledger, relative to this file (default `commcred.ledger.json` beside
    /// it): with Microsoft Graph, which has no credits API, the account's known state and
    /// who confirmed each purchase and setting (docs/credits.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub ledger: Option<String>,
}

/// Auto-recharge settings. When `enabled`, both amounts are required.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "enabled": { "const": true } }, "required": ["enabled"] },
    "then" = {
        "required": ["triggerBelow", "rechargeAmount"],
        "properties": {
            "triggerBelow": { "$ref": "#/$defs/Amount" },
            "rechargeAmount": { "$ref": "#/$defs/Amount" }
        }
    }
))]
pub struct AutoRecharge {
    /// Turn auto-recharge on or off.
    pub enabled: bool,
    /// Recharge when the balance is below this amount.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Amount")]
    pub trigger_below: Option<Amount>,
    /// Add this amount at each recharge (more than zero when enabled).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Amount")]
    pub recharge_amount: Option<Amount>,
}

/// Payment for credits. An Enterprise Agreement needs its agreement number.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schemars(extend(
    "if" = { "properties": { "method": { "const": "enterpriseAgreement" } }, "required": ["method"] },
    "then" = {
        "required": ["agreementNumber"],
        "properties": { "agreementNumber": { "$ref": "#/$defs/Identifier" } }
    }
))]
pub struct Payment {
    /// `creditCard` or `enterpriseAgreement`.
    pub method: PaymentMethod,
    /// The Enterprise Agreement enrollment number. Quote it (`"62839471"`) so that leading
    /// zeros survive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Identifier")]
    pub agreement_number: Option<String>,
    /// Optional purchase-order number printed on the invoice.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Identifier")]
    pub purchase_order: Option<String>,
}

/// How credits are paid for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum PaymentMethod {
    /// The card on file in the Microsoft 365 admin center.
    CreditCard,
    /// Invoiced under an Enterprise Agreement (needs `agreementNumber`).
    EnterpriseAgreement,
}

/// A number or reference written as text (numbers are accepted and read as their text).
struct Identifier;

impl JsonSchema for Identifier {
    fn schema_name() -> Cow<'static, str> {
        "Identifier".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": ["string", "number"], "minLength": 1 })
    }
}

/// One item of `users`: an inline user or a CSV source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum UserEntry {
    User(User),
    Csv(CsvSource),
}

/// A user, by UPN. Its managed licenses become the union of `profile` and `licenses`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct User {
    /// The user principal name, e.g. `alice@contoso.com`. The user must exist in the tenant:
    /// commcred assigns licenses, it does not create accounts. Entra ID allows at most 113
    /// characters: up to 64 before the `@` and 48 after it.
    #[schemars(
        regex(pattern = r"^[A-Za-z0-9'._!#^~-]{1,64}@[A-Za-z0-9.-]{1,48}$"),
        length(max = 113)
    )]
    pub upn: String,
    /// The user's usage location (ISO 3166-1 alpha-2), set before any license is assigned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Country")]
    pub usage_location: Option<Country>,
    /// A profile defined under `profiles`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub profile: Option<String>,
    /// Licenses in addition to the profile's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<License>")]
    pub licenses: Option<Vec<License>>,
    /// The user's Teams phone number in E.164 (`+` and digits), from the tenant's number
    /// inventory. Absent: the user keeps whatever number it has (unless `prune: true`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(regex(pattern = r"^\+[1-9][0-9]{1,14}$"))]
    pub phone_number: Option<String>,
    /// The kind of `phoneNumber`; default `callingPlan` when the user holds a calling plan
    /// after the plan, otherwise required.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_type: Option<NumberTypeName>,
}

/// Graph's `numberType` of a user's phone number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum NumberTypeName {
    /// A number from Microsoft with a Calling Plan.
    CallingPlan,
    /// A number routed through the organisation's session border controller.
    DirectRouting,
    /// A number from an Operator Connect operator.
    OperatorConnect,
}

impl From<crate::base::phone::NumberType> for NumberTypeName {
    fn from(kind: crate::base::phone::NumberType) -> NumberTypeName {
        use crate::base::phone::NumberType;
        match kind {
            NumberType::CallingPlan => NumberTypeName::CallingPlan,
            NumberType::DirectRouting => NumberTypeName::DirectRouting,
            NumberType::OperatorConnect => NumberTypeName::OperatorConnect,
        }
    }
}

/// Users read from a CSV file with a header row and the columns `upn`, `usageLocation`,
/// `profile`, `licenses` (licenses separated by `;`), `phoneNumber` and `numberType`. The keys
/// here are defaults for rows that leave a column empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CsvSource {
    /// Path of the CSV file, relative to this YAML.
    #[schemars(length(min = 1))]
    pub csv: String,
    /// Profile for rows without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String")]
    pub profile: Option<String>,
    /// Usage location for rows without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Country")]
    pub usage_location: Option<Country>,
    /// Licenses added to every row's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<License>")]
    pub licenses: Option<Vec<License>>,
    /// `numberType` for rows with a `phoneNumber` and no `numberType`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_type: Option<NumberTypeName>,
}

/// A license: a friendly name, or a SKU part number of the live tenant written as is.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct License(pub String);

impl JsonSchema for License {
    fn schema_name() -> Cow<'static, str> {
        "License".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let mut choices: Vec<serde_json::Value> = Friendly::ALL
            .into_iter()
            .map(|f| {
                let sku = format!(
                    "the tenant's one SKU that sells {}",
                    f.capabilities()[0].label()
                );
                serde_json::json!({ "const": f.name(), "description": format!("{} ({sku})", friendly_description(f)) })
            })
            .collect();
        choices.push(serde_json::json!({
            "type": "string",
            "pattern": "^[A-Z0-9_.-]+$",
            "description": "A skuPartNumber of the live tenant, e.g. MCOPSTN_6. commcred then manages that SKU too."
        }));
        choices.push(serde_json::json!({
            "type": "string",
            "pattern": format!("^{PAYG_PREFIX}"),
            "description": "An exact pay-as-you-go Calling Plan part number (needed when the tenant has several)."
        }));
        json_schema!({
            "description": "A license: a friendly name, or a SKU part number of the live tenant.",
            "anyOf": choices
        })
    }
}

fn friendly_description(f: Friendly) -> &'static str {
    match f {
        Friendly::AudioConferencing => "Audio Conferencing: dial-in and dial-out for meetings",
        Friendly::PhoneSystem => "Teams Phone, needed by every Calling Plan",
        Friendly::DomesticCallingPlan => "Domestic Calling Plan",
        Friendly::InternationalCallingPlan => "International Calling Plan",
        Friendly::DomesticCallingPlan120 => "Domestic Calling Plan, 120 minutes",
        Friendly::PayAsYouGoCallingPlan => "Pay-As-You-Go Calling Plan, paid with credits",
        Friendly::CommunicationsCredits => {
            "Communications Credits: lets the user spend credits (needs Audio Conferencing, or Teams Phone with a Calling Plan)"
        }
    }
}

/// An ISO 3166-1 alpha-2 country code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Country(pub String);

impl JsonSchema for Country {
    fn schema_name() -> Cow<'static, str> {
        "Country".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<String> = letter_codes(2).filter(|c| is_country(c)).collect();
        json_schema!({
            "description": "An ISO 3166-1 alpha-2 country code in upper case, e.g. US, GB, IT.",
            "type": "string",
            "enum": codes
        })
    }
}

/// An ISO 4217 currency code, upper case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Currency(pub String);

impl JsonSchema for Currency {
    fn schema_name() -> Cow<'static, str> {
        "Currency".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        let codes: Vec<String> = letter_codes(3)
            .filter(|c| currency_minor_units(c).is_some())
            .collect();
        json_schema!({
            "description": "An ISO 4217 currency code in upper case; must be the billing account's currency.",
            "type": "string",
            "enum": codes
        })
    }
}

/// Every upper-case ASCII code of `len` letters, in order (AA..ZZ, AAA..ZZZ): the tables in
/// `codes` stay the single source, and the schema lists exactly what validation accepts.
fn letter_codes(len: u32) -> impl Iterator<Item = String> {
    (0..26u32.pow(len)).map(move |mut n| {
        let mut code = vec![b'A'; len as usize];
        for slot in code.iter_mut().rev() {
            *slot = b'A' + (n % 26) as u8;
            n /= 26;
        }
        String::from_utf8(code).expect("ASCII letters")
    })
}

/// An exact amount as written in the YAML (`250.00`), kept as text so that no float ever
/// rounds it. Written unquoted by export; a quoted string is accepted too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Amount(pub String);

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        // YAML readers hand a plain scalar's text to a string visitor; that keeps `10.50`.
        String::deserialize(d).map(Amount)
    }
}

impl JsonSchema for Amount {
    fn schema_name() -> Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "An exact amount in the account's currency, e.g. 250.00: digits, optionally a point and at most the currency's decimals. No sign, exponent, currency symbol or thousands separator.",
            "type": ["number", "string"],
            "minimum": 0,
            "pattern": "^[0-9]+(\\.[0-9]+)?$"
        })
    }
}

/// The JSON Schema of `commcred.yaml` (draft 2020-12) with its `$id`.
pub fn json_schema() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .with_transform(EmptyMeansAbsent)
        .into_generator()
        .into_root_schema_for::<Document>();
    schema.insert("$id".into(), SCHEMA_ID.into());
    schema
}

/// The loader treats a key with an empty value (`payment:`) as absent, so every optional
/// key (and a profile's license list) also accepts `null`: the schema flags only what the
/// loader rejects. Required keys stay non-null.
#[derive(Debug, Clone)]
struct EmptyMeansAbsent;

impl schemars::transform::Transform for EmptyMeansAbsent {
    fn transform(&mut self, schema: &mut Schema) {
        schemars::transform::transform_subschemas(self, schema);
        let required: Vec<String> = schema
            .get("required")
            .and_then(|r| r.as_array())
            .map(|r| {
                r.iter()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let open_map = schema.get("properties").is_none()
            && schema
                .get("additionalProperties")
                .is_some_and(|a| a.is_object());
        if let Some(props) = schema.get_mut("properties").and_then(|p| p.as_object_mut()) {
            for (key, prop) in props.iter_mut() {
                if !required.contains(key) {
                    allow_null(prop);
                }
            }
        }
        if open_map && let Some(values) = schema.get_mut("additionalProperties") {
            allow_null(values);
        }
    }
}

fn allow_null(schema: &mut serde_json::Value) {
    let Some(obj) = schema.as_object_mut() else {
        return;
    };
    let simple_type = match obj.get("type") {
        Some(serde_json::Value::String(t)) if obj.get("enum").is_none() => Some(t.clone()),
        _ => None,
    };
    match simple_type {
        Some(t) => {
            obj.insert("type".into(), serde_json::json!([t, "null"]));
        }
        None => {
            // A `$ref` or an enum: keep the description beside an anyOf with null.
            let description = obj.remove("description");
            let inner = serde_json::Value::Object(std::mem::take(obj));
            obj.insert(
                "anyOf".into(),
                serde_json::json!([inner, { "type": "null" }]),
            );
            if let Some(d) = description {
                obj.insert("description".into(), d);
            }
        }
    }
}

/// The schema as committed in `schemas/commcred.schema.json`: pretty JSON, final newline.
pub fn json_schema_text() -> String {
    let mut text = serde_json::to_string_pretty(&json_schema()).expect("schemas serialize");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letter_codes_cover_the_tables() {
        let two: Vec<String> = letter_codes(2).collect();
        assert_eq!(two.len(), 676);
        assert_eq!((two[0].as_str(), two[675].as_str()), ("AA", "ZZ"));
        assert_eq!(letter_codes(2).filter(|c| is_country(c)).count(), 249);
        assert!(letter_codes(3).any(|c| c == "USD"));
    }

    #[test]
    fn schema_lists_every_top_level_key() {
        let schema = serde_json::to_value(json_schema()).unwrap();
        let keys: Vec<&str> = schema["properties"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        for key in [
            "apiVersion",
            "tenant",
            "backend",
            "defaultUsageLocation",
            "billingAccount",
            "communicationsCredits",
            "profilesFrom",
            "profiles",
            "users",
            "groups",
            "prefer",
            "prune",
        ] {
            assert!(keys.contains(&key), "{key} missing from {keys:?}");
        }
        assert_eq!(schema["additionalProperties"], false);
    }
}
