//! `apply --max-monthly-increase AMOUNT`: a ceiling on how much the seats an apply takes
//! add to the monthly bill (docs/cost.md), checked before anything changes, like
//! `--max-spend` and with the amount as `--max-spend` takes it (`100`, `100.00 USD`).
//!
//! The cost must be known to be under the limit: a plan that adds seats of an unpriced SKU,
//! or that was made without a price list, is refused rather than guessed at zero.

use rust_decimal::Decimal;

use super::budget::{MaxSpend, SpendError};
use crate::base::codes::currency_minor_units;
use crate::base::money::Money;
use crate::plan::Plan;
use crate::plan::cost::signed;

/// A parsed `--max-monthly-increase`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxMonthlyIncrease(MaxSpend);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum MonthlyError {
    #[error("--max-monthly-increase `{text}` is not an amount: {reason}")]
    #[diagnostic(
        code(commcred::apply::bad_max_monthly_increase),
        help(
            "write a non-negative decimal, optionally with its ISO 4217 currency: `100` or `100.00 USD`"
        )
    )]
    Invalid { text: String, reason: String },

    #[error("--max-monthly-increase cannot be checked: {why}; nothing was changed")]
    #[diagnostic(code(commcred::apply::monthly_cost_unknown), help("{help}"))]
    Unknown { why: String, help: String },

    #[error(
        "--max-monthly-increase is in {limit_currency}, but the price list is in {currency}; nothing was changed"
    )]
    #[diagnostic(
        code(commcred::apply::max_monthly_increase_currency),
        help(
            "give the limit in the price list's currency, e.g. `--max-monthly-increase \"100.00 {currency}\"`"
        )
    )]
    CurrencyMismatch {
        limit_currency: String,
        currency: String,
    },

    #[error(
        "the plan's seats add {change} a month, more than --max-monthly-increase {limit}; nothing was changed"
    )]
    #[diagnostic(
        code(commcred::apply::max_monthly_increase_exceeded),
        help(
            "the plan's \"Seats and monthly cost\" lists each SKU; if the increase is intended, raise --max-monthly-increase"
        )
    )]
    Exceeded { change: String, limit: String },
}

impl std::str::FromStr for MaxMonthlyIncrease {
    type Err = MonthlyError;

    fn from_str(text: &str) -> Result<Self, MonthlyError> {
        match text.parse::<MaxSpend>() {
            Ok(limit) => Ok(MaxMonthlyIncrease(limit)),
            Err(SpendError::Invalid { text, reason }) => {
                Err(MonthlyError::Invalid { text, reason })
            }
            Err(other) => Err(MonthlyError::Invalid {
                text: text.to_string(),
                reason: other.to_string(),
            }),
        }
    }
}

/// Refuses a plan whose seats add more than `limit` a month, or whose monthly change is not
/// known. A plan whose seats do not change passes any limit.
pub fn check(plan: &Plan, limit: &MaxMonthlyIncrease) -> Result<(), MonthlyError> {
    let limit = &limit.0;
    let adds_seats = plan.seats.iter().any(|s| s.added > 0);
    let Some(cost) = &plan.cost else {
        if !adds_seats {
            return Ok(());
        }
        return Err(MonthlyError::Unknown {
            why: "the plan has no prices".into(),
            help: "add `prices: prices.yaml` to commcred.yaml (docs/cost.md; a sample is in examples/prices) and plan again".into(),
        });
    };
    if cost.unpriced_added() > 0 {
        let skus: Vec<String> = cost
            .unpriced
            .iter()
            .filter(|u| u.added > 0)
            .map(|u| format!("{} ({} added)", u.sku.part_number, u.added))
            .collect();
        return Err(MonthlyError::Unknown {
            why: format!(
                "the plan adds seats of SKUs without a price: {}",
                skus.join(", ")
            ),
            help: format!("add their monthly price to {}", cost.price_list),
        });
    }
    let currency = limit.currency.clone().unwrap_or(cost.currency.clone());
    if currency != cost.currency {
        return Err(MonthlyError::CurrencyMismatch {
            limit_currency: currency,
            currency: cost.currency.clone(),
        });
    }
    if let Some(units) = currency_minor_units(&currency)
        && limit.amount.scale() > units
    {
        return Err(MonthlyError::Invalid {
            text: limit.amount.to_string(),
            reason: format!("{currency} has {units} decimal places"),
        });
    }
    let change = cost.monthly_change.0;
    if change > Decimal::ZERO && change > limit.amount {
        return Err(MonthlyError::Exceeded {
            change: signed(&cost.money(cost.monthly_change)),
            limit: Money::new(limit.amount, currency).to_string(),
        });
    }
    Ok(())
}
