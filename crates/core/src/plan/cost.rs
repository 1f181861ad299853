//! What a plan's seat changes cost per month, from the admin's price list (`prices:`).
//! Pure: seats x prices, exact decimals in the price list's currency.
//!
//! Microsoft bills the seats a subscription holds, not the seats assigned: the monthly
//! change is what the seats the plan takes are worth (seats that could otherwise be
//! reduced or not bought) minus what the seats it frees are worth (saved once the
//! subscription's quantity is reduced: `commcred waste` lists unassigned seats). A SKU with
//! no price is listed as unpriced, never counted as zero.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::base::money::{Amount, Money};
use crate::config::{PriceList, Term};
use crate::tenant::Snapshot;

use super::codes::Code;
use super::model::{PlanWarning, SeatChange, SkuRef};

/// The monthly cost of a plan's seat changes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanCost {
    /// ISO 4217, the price list's.
    pub currency: String,
    /// The price list's `asOf`.
    pub as_of: Option<NaiveDate>,
    /// The price list file, as the config names it.
    pub price_list: String,
    /// Priced SKUs whose seats change, by part number.
    pub lines: Vec<CostLine>,
    /// SKUs whose seats change and that the price list has no price for.
    pub unpriced: Vec<SeatChange>,
    /// Sum of the priced lines' changes: positive costs more, negative saves.
    pub monthly_change: Amount,
}

/// One priced SKU: seats added and freed, its price and the monthly change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CostLine {
    pub sku: SkuRef,
    pub added: usize,
    pub freed: usize,
    /// Per seat and month.
    pub monthly_price: Amount,
    pub term: Term,
    /// `(added - freed) x monthly_price`.
    pub monthly_change: Amount,
}

impl PlanCost {
    pub fn money(&self, amount: Amount) -> Money {
        Money::new(amount.0, self.currency.clone())
    }

    /// Seats added of SKUs without a price: the plan's cost is then not fully known.
    pub fn unpriced_added(&self) -> usize {
        self.unpriced.iter().map(|s| s.added).sum()
    }
}

/// Prices `seats` with `prices`.
pub fn price(seats: &[SeatChange], prices: &PriceList) -> PlanCost {
    let mut lines = Vec::new();
    let mut unpriced = Vec::new();
    let mut total = Decimal::ZERO;
    for change in seats {
        match prices.price_of(&change.sku.part_number) {
            Some(p) => {
                let net = Decimal::from(change.added as i64 - change.freed as i64);
                let line = net * p.monthly;
                total += line;
                lines.push(CostLine {
                    sku: change.sku.clone(),
                    added: change.added,
                    freed: change.freed,
                    monthly_price: Amount(p.monthly),
                    term: p.term,
                    monthly_change: Amount(line),
                });
            }
            None => unpriced.push(change.clone()),
        }
    }
    PlanCost {
        currency: prices.currency.clone(),
        as_of: prices.as_of,
        price_list: prices.path.display().to_string(),
        lines,
        unpriced,
        monthly_change: Amount(total),
    }
}

/// A warning per priced part number the tenant does not subscribe to: a typo, or a
/// subscription that ended.
pub fn prices_not_in_tenant(prices: &PriceList, live: &Snapshot) -> Vec<PlanWarning> {
    prices
        .skus
        .iter()
        .filter(|p| {
            !live
                .subscribed_skus
                .iter()
                .any(|s| s.sku_part_number.eq_ignore_ascii_case(&p.part_number))
        })
        .map(|p| PlanWarning {
            code: PRICE_NOT_IN_TENANT.into(),
            upn: None,
            message: format!(
                "{}: the price list has a price for {}, which the tenant does not subscribe to (a typo, or a subscription that ended)",
                p.origin, p.part_number
            ),
            assignment: None,
        })
        .collect()
}

/// The code of [`prices_not_in_tenant`]'s warnings.
pub const PRICE_NOT_IN_TENANT: &str = Code::PriceNotInTenant.as_str();

/// `+340.00 USD` / `-60.00 USD` / `0.00 USD`: a change always shows its sign.
pub fn signed(money: &Money) -> String {
    if money.amount.0 > Decimal::ZERO {
        format!("+{money}")
    } else {
        money.to_string()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::config::{Origin, SkuPrice};

    fn sku(part: &str) -> SkuRef {
        SkuRef {
            sku_id: format!("id-{part}").into(),
            part_number: part.into(),
            friendly: None,
        }
    }

    fn list(prices: &[(&str, &str)]) -> PriceList {
        PriceList {
            path: "prices.yaml".into(),
            currency: "USD".into(),
            as_of: None,
            skus: prices
                .iter()
                .map(|(part, monthly)| SkuPrice {
                    part_number: part.to_string(),
                    monthly: monthly.parse().unwrap(),
                    term: Term::Monthly,
                    origin: Origin {
                        file: Arc::from(std::path::Path::new("prices.yaml")),
                        line: 1,
                        column: 1,
                    },
                })
                .collect(),
        }
    }

    #[test]
    fn seats_are_priced_exactly_and_unpriced_skus_are_not_zero() {
        let seats = vec![
            SeatChange {
                sku: sku("MCOEV"),
                added: 40,
                freed: 0,
            },
            SeatChange {
                sku: sku("MCOPSTN1"),
                added: 0,
                freed: 5,
            },
            SeatChange {
                sku: sku("MCOPSTNC"),
                added: 3,
                freed: 1,
            },
        ];
        let cost = price(&seats, &list(&[("mcoev", "8.10"), ("MCOPSTN1", "12.00")]));
        assert_eq!(cost.monthly_change, Amount("264.00".parse().unwrap()));
        assert_eq!(cost.lines[0].monthly_change.to_string(), "324.00");
        assert_eq!(cost.lines[1].monthly_change.to_string(), "-60.00");
        assert_eq!(cost.unpriced.len(), 1);
        assert_eq!(cost.unpriced_added(), 3);
        assert_eq!(signed(&cost.money(cost.monthly_change)), "+264.00 USD");
        assert_eq!(
            signed(&cost.money(cost.lines[1].monthly_change)),
            "-60.00 USD"
        );
    }
}
