//! The credits outlook in the plan document (format 1.1): balance, money about to expire,
//! recent spend and warnings, so that pipelines read the warnings and `show PLAN` prints
//! what `plan` printed. Own types, like the rest of the document.

use chrono::{DateTime, Utc};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::base::money::Amount;
use crate::credits::forecast::{CreditsWarning, ExpiringFund, Forecast, SpendRate, WarningKind};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OutlookDoc {
    /// Usable balance when planned (funds bought in the last 12 months, after charges).
    pub usable_balance: Amount,
    /// Usable balance after this plan's purchase.
    pub balance_after: Amount,
    /// Funds expiring within 30 days, oldest first.
    pub expiring: Vec<ExpiringFundDoc>,
    /// The recent rate of spend; absent when commcred knows no PSTN usage.
    pub recent_spend: Option<SpendRateDoc>,
    /// With auto-recharge off: when the balance is spent or expired at the recent rate.
    #[schemars(with = "Option<String>", extend("format" = "date-time"))]
    pub runs_out_at: Option<DateTime<Utc>>,
    pub warnings: Vec<WarningDoc>,
    pub notes: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExpiringFundDoc {
    pub id: String,
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub expires_at: DateTime<Utc>,
    pub remaining: Amount,
    /// What is left at expiry at the recent rate of spend; absent without usage data.
    pub likely_lost: Option<Amount>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SpendRateDoc {
    #[schemars(with = "String", extend("format" = "date-time"))]
    pub since: DateTime<Utc>,
    pub days: i64,
    pub total: Amount,
    pub calls: usize,
    /// `total / days`, 6 decimals.
    pub per_day: Amount,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct WarningDoc {
    /// Stable, `commcred::credits::<name>` (docs/credits.md).
    #[schemars(with = "String")]
    pub code: WarningKind,
    pub message: String,
    pub help: String,
}

impl From<&Forecast> for OutlookDoc {
    fn from(f: &Forecast) -> Self {
        let Forecast {
            usable_balance,
            balance_after,
            expiring,
            rate,
            runs_out_at,
            warnings,
            notes,
        } = f;
        OutlookDoc {
            usable_balance: *usable_balance,
            balance_after: *balance_after,
            expiring: expiring
                .iter()
                .map(
                    |ExpiringFund {
                         id,
                         expires_at,
                         remaining,
                         likely_lost,
                     }| ExpiringFundDoc {
                        id: id.clone(),
                        expires_at: *expires_at,
                        remaining: *remaining,
                        likely_lost: *likely_lost,
                    },
                )
                .collect(),
            recent_spend: rate.as_ref().map(
                |SpendRate {
                     since,
                     days,
                     total,
                     calls,
                     per_day,
                 }| SpendRateDoc {
                    since: *since,
                    days: *days,
                    total: *total,
                    calls: *calls,
                    per_day: *per_day,
                },
            ),
            runs_out_at: *runs_out_at,
            warnings: warnings
                .iter()
                .map(
                    |CreditsWarning {
                         kind,
                         message,
                         help,
                     }| WarningDoc {
                        code: *kind,
                        message: message.clone(),
                        help: help.clone(),
                    },
                )
                .collect(),
            notes: notes.clone(),
        }
    }
}

impl From<&OutlookDoc> for Forecast {
    fn from(d: &OutlookDoc) -> Self {
        Forecast {
            usable_balance: d.usable_balance,
            balance_after: d.balance_after,
            expiring: d
                .expiring
                .iter()
                .map(|e| ExpiringFund {
                    id: e.id.clone(),
                    expires_at: e.expires_at,
                    remaining: e.remaining,
                    likely_lost: e.likely_lost,
                })
                .collect(),
            rate: d.recent_spend.as_ref().map(|r| SpendRate {
                since: r.since,
                days: r.days,
                total: r.total,
                calls: r.calls,
                per_day: r.per_day,
            }),
            runs_out_at: d.runs_out_at,
            warnings: d
                .warnings
                .iter()
                .map(|w| CreditsWarning {
                    kind: w.code,
                    message: w.message.clone(),
                    help: w.help.clone(),
                })
                .collect(),
            notes: d.notes.clone(),
        }
    }
}
