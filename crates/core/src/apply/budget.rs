//! `apply --max-spend AMOUNT`: a ceiling on the money one apply may spend, checked before
//! anything changes. Exact decimals only, in the plan's currency.
//!
//! What counts is the plan's "add funds" purchase. Auto-recharge purchases happen later, at
//! Microsoft, when the balance falls; the plan shows their settings but they are not spent
//! by this apply.

use std::str::FromStr;

use rust_decimal::Decimal;

use crate::base::codes::currency_minor_units;
use crate::base::money::{Amount, Money};

use crate::plan::Plan;

/// A parsed `--max-spend`: `500`, `500.00` or `500.00 USD`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaxSpend {
    pub amount: Decimal,
    /// Absent: the plan's currency is assumed.
    pub currency: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, miette::Diagnostic)]
pub enum SpendError {
    #[error("--max-spend `{text}` is not an amount: {reason}")]
    #[diagnostic(
        code(commcred::apply::bad_max_spend),
        help(
            "write a non-negative decimal, optionally with its ISO 4217 currency: `500` or `500.00 USD`"
        )
    )]
    Invalid { text: String, reason: String },

    #[error(
        "--max-spend is in {limit_currency}, but the plan spends {currency}; nothing was changed"
    )]
    #[diagnostic(
        code(commcred::apply::max_spend_currency),
        help(
            "give --max-spend in the currency of the credits account, e.g. `--max-spend \"500.00 {currency}\"`"
        )
    )]
    CurrencyMismatch {
        limit_currency: String,
        currency: String,
    },

    #[error(
        "the plan adds {spend} of Communications Credits, more than --max-spend {limit}; nothing was changed"
    )]
    #[diagnostic(
        code(commcred::apply::max_spend_exceeded),
        help(
            "check `communicationsCredits.minimumBalance` and the plan's funding; if this purchase is intended, raise --max-spend"
        )
    )]
    Exceeded { spend: String, limit: String },
}

impl FromStr for MaxSpend {
    type Err = SpendError;

    fn from_str(text: &str) -> Result<MaxSpend, SpendError> {
        let invalid = |reason: &str| SpendError::Invalid {
            text: text.to_string(),
            reason: reason.to_string(),
        };
        let mut parts = text.split_whitespace();
        let amount = parts.next().ok_or_else(|| invalid("it is empty"))?;
        let currency = parts.next().map(str::to_ascii_uppercase);
        if parts.next().is_some() {
            return Err(invalid("expected an amount and at most a currency"));
        }
        let amount = Amount::parse(amount).map_err(|e| invalid(&e.to_string()))?;
        if amount.0.is_sign_negative() {
            return Err(invalid("it is negative"));
        }
        if let Some(c) = &currency {
            let units = currency_minor_units(c)
                .ok_or_else(|| invalid(&format!("`{c}` is not an ISO 4217 currency code")))?;
            check_scale(amount, c, units).map_err(|e| invalid(&e))?;
        }
        Ok(MaxSpend {
            amount: amount.0,
            currency,
        })
    }
}

fn check_scale(amount: Amount, currency: &str, units: u32) -> Result<(), String> {
    if amount.scale() > units {
        Err(format!("{currency} has {units} decimal places"))
    } else {
        Ok(())
    }
}

/// What this plan spends: its "add funds" amount, if any.
pub fn spend(plan: &Plan) -> Option<Money> {
    plan.summary().add_funds
}

/// Refuses a plan that spends more than `limit`. A plan that spends nothing always passes.
pub fn check(plan: &Plan, limit: &MaxSpend) -> Result<(), SpendError> {
    let Some(spend) = spend(plan) else {
        return Ok(());
    };
    let currency = limit.currency.clone().unwrap_or(spend.currency.clone());
    if currency != spend.currency {
        return Err(SpendError::CurrencyMismatch {
            limit_currency: currency,
            currency: spend.currency,
        });
    }
    let limit_money = Money::new(limit.amount, currency.clone());
    if let Some(units) = currency_minor_units(&currency) {
        check_scale(Amount(limit.amount), &currency, units).map_err(|reason| {
            SpendError::Invalid {
                text: limit.amount.to_string(),
                reason,
            }
        })?;
    }
    if spend.amount.0 > limit.amount {
        return Err(SpendError::Exceeded {
            spend: spend.to_string(),
            limit: limit_money.to_string(),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::{CreditsChange, ObservedCredits};
    use crate::tenant::BillingAccountType;

    fn plan_spending(amount: Option<&str>) -> Plan {
        Plan {
            tenant_id: "t".into(),
            tenant_domain: "contoso.onmicrosoft.com".into(),
            planned_at: "2026-11-25T00:00:00Z".parse().unwrap(),
            config_digest: "d".into(),
            users: vec![],
            warnings: vec![],
            credits: Some(CreditsChange {
                currency: "USD".into(),
                billing_account_type: BillingAccountType::Mosa,
                observed: ObservedCredits {
                    usable_balance: Amount::parse("155.50").unwrap(),
                    auto_recharge_enabled: false,
                    trigger_below: None,
                    recharge_amount: None,
                    payment_method: None,
                    agreement_number: None,
                    purchase_order: None,
                    fund_ids: vec![],
                },
                settings: vec![],
                auto_recharge: None,
                payment: None,
                add_funds: amount.map(|a| Amount::parse(a).unwrap()),
                balance_after: Amount::parse("500.00").unwrap(),
                minimum_balance: None,
                ledger: None,
                forecast: None,
            }),
            groups: vec![],
            seats: vec![],
            cost: None,
        }
    }

    fn limit(text: &str) -> MaxSpend {
        text.parse().unwrap()
    }

    #[test]
    fn parses_bare_and_currency_amounts() {
        assert_eq!(
            limit("500"),
            MaxSpend {
                amount: Decimal::new(500, 0),
                currency: None
            }
        );
        assert_eq!(
            limit(" 500.00  usd "),
            MaxSpend {
                amount: Decimal::new(50000, 2),
                currency: Some("USD".into())
            }
        );
        for bad in [
            "",
            "five",
            "-1",
            "1e3",
            "500 USD extra",
            "500 XYZ",
            "10.001 USD",
            "5.5 JPY",
        ] {
            let err = bad.parse::<MaxSpend>().unwrap_err();
            assert!(matches!(err, SpendError::Invalid { .. }), "{bad}: {err:?}");
        }
    }

    #[test]
    fn compares_exact_decimals_at_the_boundary() {
        let p = plan_spending(Some("344.50"));
        assert!(check(&p, &limit("344.50")).is_ok());
        assert!(check(&p, &limit("344.5 USD")).is_ok());
        assert!(check(&p, &limit("345")).is_ok());
        let err = check(&p, &limit("344.49")).unwrap_err();
        assert_eq!(
            err,
            SpendError::Exceeded {
                spend: "344.50 USD".into(),
                limit: "344.49 USD".into()
            }
        );
    }

    #[test]
    fn refuses_another_currency_and_excess_decimals() {
        let p = plan_spending(Some("10.00"));
        assert!(matches!(
            check(&p, &limit("1000 EUR")),
            Err(SpendError::CurrencyMismatch { .. })
        ));
        // Without a currency the plan's one applies, with its number of decimals.
        assert!(matches!(
            check(&p, &limit("10.001")),
            Err(SpendError::Invalid { .. })
        ));
    }

    #[test]
    fn a_plan_without_funding_passes_any_limit() {
        assert!(check(&plan_spending(None), &limit("0")).is_ok());
        assert!(check(&plan_spending(None), &limit("0 EUR")).is_ok());
        assert!(check(&plan_spending(Some("0.01")), &limit("0")).is_err());
    }
}
