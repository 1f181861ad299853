//! The validated desired state: what `commcred.yaml` (and its CSV sources) ask for, after
//! every check that needs no live tenant. The planner consumes only this.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rust_decimal::Decimal;

use crate::base::licenses::LicenseName;
use crate::base::phone::NumberType;
use crate::tenant::{BillingAccountType, PaymentMethod};

/// Where something was written: file, 1-based line and column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// Shared by every user of the same file (a 100,000-row CSV names one path).
    pub file: Arc<Path>,
    pub line: usize,
    pub column: usize,
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}:{}", self.file.display(), self.line, self.column)
    }
}

/// Which live tenant to read and change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BackendSpec {
    /// A tenant snapshot file (SPEC §4).
    File(PathBuf),
    /// Microsoft Graph; `Some(url)` points at another Graph root such as the emulator.
    Graph(Option<String>),
}

impl BackendSpec {
    /// Parses `file:PATH`, `graph` or `graph:BASE_URL` (the `--backend` syntax).
    pub fn parse(text: &str) -> Result<BackendSpec, String> {
        if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err("`file:` needs a path, e.g. `file:tenant.json`".into());
            }
            return Ok(BackendSpec::File(PathBuf::from(path)));
        }
        if text == "graph" {
            return Ok(BackendSpec::Graph(None));
        }
        if let Some(url) = text.strip_prefix("graph:") {
            if !(url.starts_with("http://") || url.starts_with("https://")) {
                return Err(format!(
                    "`{url}` is not an http(s) URL; use `graph:http://127.0.0.1:PORT`"
                ));
            }
            return Ok(BackendSpec::Graph(Some(
                url.trim_end_matches('/').to_string(),
            )));
        }
        Err(format!(
            "unknown backend `{text}`; expected `file:PATH`, `graph` or `graph:BASE_URL`"
        ))
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredState {
    /// The YAML file this came from.
    pub config_path: PathBuf,
    /// SHA-256 (hex) over the YAML and every CSV it reads, in order.
    pub digest: String,
    /// The tenant's initial domain, e.g. `contoso.onmicrosoft.com`.
    pub tenant: String,
    /// Where `tenant:` is written, for the plan's tenant-mismatch error.
    pub tenant_origin: Option<Origin>,
    /// The YAML's `backend`, with relative paths already resolved against the YAML's folder.
    pub backend: Option<BackendSpec>,
    pub default_usage_location: Option<String>,
    /// `billingAccount`: how the tenant pays for calls beyond included minutes, for tenants
    /// whose live state does not say (no credits account, no ledger). The live account's
    /// type wins when both say; they must agree.
    pub billing_account: Option<DeclaredBilling>,
    pub credits: Option<DesiredCredits>,
    /// Listed users in the order written (YAML, then each CSV's rows in place), no duplicates.
    pub users: Vec<DesiredUser>,
    pub prune: bool,
    /// `groups:` and `prefer:` (group-based licensing).
    pub groups: DesiredGroups,
    /// `prices: FILE`: what a seat of each SKU costs the tenant per month.
    pub prices: Option<PriceList>,
}

/// The admin's price list (`prices: FILE`): monthly prices per seat by SKU part number, in
/// one currency. Microsoft publishes no price API a customer can call, and prices depend on
/// the agreement, so they come from the admin.
#[derive(Debug, Clone, PartialEq)]
pub struct PriceList {
    /// The file, resolved against the YAML's folder.
    pub path: PathBuf,
    /// ISO 4217, upper case.
    pub currency: String,
    /// `asOf`: the date the prices were read from the agreement, when written.
    pub as_of: Option<chrono::NaiveDate>,
    /// In the order written, each part number once (compared without case).
    pub skus: Vec<SkuPrice>,
}

impl PriceList {
    /// The price of a SKU by part number (without regard to case).
    pub fn price_of(&self, part_number: &str) -> Option<&SkuPrice> {
        self.skus
            .iter()
            .find(|p| p.part_number.eq_ignore_ascii_case(part_number))
    }
}

/// One SKU's monthly price per seat.
#[derive(Debug, Clone, PartialEq)]
pub struct SkuPrice {
    pub part_number: String,
    /// Per seat and month, exact, at most the currency's decimals.
    pub monthly: Decimal,
    pub term: Term,
    /// Where the price is written in the price file.
    pub origin: Origin,
}

/// The subscription's commitment. Informative: under new commerce an annual commitment's
/// seat count can be reduced only within 7 days of purchase or renewal (Microsoft Q&A,
/// docs/cost.md), so seats an apply frees on an annual term are saved at renewal.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Term {
    Monthly,
    Annual,
}

impl Term {
    pub fn as_str(self) -> &'static str {
        match self {
            Term::Monthly => "monthly",
            Term::Annual => "annual",
        }
    }
}

/// The billing account type written in commcred.yaml, and where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeclaredBilling {
    pub kind: BillingAccountType,
    pub origin: Origin,
}

/// The groups whose licenses commcred manages, and whether direct copies give way to them.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct DesiredGroups {
    /// In the order written, each group once.
    pub list: Vec<DesiredGroup>,
    /// `prefer: groups`: a direct assignment a managed group also gives is removed once the
    /// group's inherited assignment is active for that user.
    pub prefer_groups: bool,
}

/// How a group is named in the YAML.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GroupKey {
    Id(String),
    DisplayName(String),
}

impl std::fmt::Display for GroupKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GroupKey::Id(id) => write!(f, "group {id}"),
            GroupKey::DisplayName(name) => write!(f, "group \"{name}\""),
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredGroup {
    pub key: GroupKey,
    /// Each license once, in a stable order.
    pub licenses: Vec<GroupLicense>,
    pub origin: Origin,
}

/// A license on a group, with the service plans switched off (names or ids, resolved
/// against the tenant's SKU at plan time).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct GroupLicense {
    pub name: LicenseName,
    pub disabled_plans: Vec<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredUser {
    pub upn: String,
    pub usage_location: Option<String>,
    /// Union of the profile's licenses and the user's own: sorted, each once. A Vec, not a
    /// set: a 100,000-user config keeps one per user, and a set node costs ~400 bytes.
    pub licenses: Vec<LicenseName>,
    pub origin: Origin,
    /// `phoneNumber` (and `numberType`): the number the user should have. `None`: the user
    /// keeps whatever number it has (unless `prune`). Boxed: most users of a large config
    /// have none, and the box keeps their entry small.
    pub phone: Option<Box<DesiredNumber>>,
}

/// A user's declared phone number.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredNumber {
    /// E.164 (`+` and digits), as checked.
    pub number: String,
    /// `numberType`; `None` when not written (the planner defaults it to `callingPlan` for
    /// a user who holds a calling plan after the plan, and otherwise asks for it).
    pub number_type: Option<NumberType>,
    /// Where `phoneNumber` is written.
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredCredits {
    /// ISO 4217, upper case.
    pub currency: String,
    pub minimum_balance: Option<Decimal>,
    pub auto_recharge: Option<DesiredAutoRecharge>,
    pub payment: Option<DesiredPayment>,
    /// `communicationsCredits.ledger`: the credits ledger used with Microsoft Graph, resolved
    /// against the YAML's folder; `None` means `commcred.ledger.json` beside the YAML.
    pub ledger: Option<PathBuf>,
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredAutoRecharge {
    pub enabled: bool,
    /// Both present when `enabled`; may be absent when disabled.
    pub trigger_below: Option<Decimal>,
    pub recharge_amount: Option<Decimal>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DesiredPayment {
    pub method: PaymentMethod,
    /// Required for `enterpriseAgreement`.
    pub agreement_number: Option<String>,
    pub purchase_order: Option<String>,
}
