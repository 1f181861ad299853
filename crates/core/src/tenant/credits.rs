//! Communications Credits arithmetic: funds expire 12 months after purchase and are
//! consumed first in, first out. Pure: the clock is an argument.

use chrono::{DateTime, Months, Utc};
use rust_decimal::Decimal;

use crate::base::money::Amount;

use super::snapshot::{CreditsAccount, Fund};

/// Funds are usable until 12 months after their purchase date (exclusive).
pub fn expires_at(fund: &Fund) -> DateTime<Utc> {
    fund.purchased_at
        .checked_add_months(Months::new(12))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

pub fn is_usable(fund: &Fund, now: DateTime<Utc>) -> bool {
    fund.purchased_at <= now && now < expires_at(fund)
}

/// Sum of `remaining` over funds not yet expired at `now`.
pub fn usable_balance(account: &CreditsAccount, now: DateTime<Utc>) -> Decimal {
    account
        .funds
        .iter()
        .filter(|f| is_usable(f, now))
        .map(|f| f.remaining.0)
        .sum()
}

/// Usable funds that expire within `days` of `now`: money about to be lost if unspent.
pub fn expiring_within(account: &CreditsAccount, now: DateTime<Utc>, days: i64) -> Decimal {
    let horizon = now + chrono::Duration::days(days);
    account
        .funds
        .iter()
        .filter(|f| is_usable(f, now) && expires_at(f) <= horizon)
        .map(|f| f.remaining.0)
        .sum()
}

/// Spends `charge` from the oldest usable funds first. Returns what could not be covered.
pub fn consume_fifo(account: &mut CreditsAccount, charge: Decimal, now: DateTime<Utc>) -> Decimal {
    consume_fifo_where(account, charge, now, |_| true)
}

/// [`consume_fifo`] over the funds `eligible` accepts (by position): a ledger replays a
/// charge only against funds it already knew of when the call was made.
pub fn consume_fifo_where(
    account: &mut CreditsAccount,
    charge: Decimal,
    now: DateTime<Utc>,
    eligible: impl Fn(usize) -> bool,
) -> Decimal {
    let mut order: Vec<usize> = (0..account.funds.len())
        .filter(|&i| eligible(i) && is_usable(&account.funds[i], now))
        .collect();
    order.sort_by_key(|&i| (account.funds[i].purchased_at, i));
    let mut left = charge;
    for i in order {
        if left <= Decimal::ZERO {
            break;
        }
        let fund = &mut account.funds[i];
        let take = left.min(fund.remaining.0);
        fund.remaining = Amount(fund.remaining.0 - take);
        left -= take;
    }
    left
}

/// Records a purchase of `amount` at `now` with a fresh, deterministic id.
pub fn add_funds(account: &mut CreditsAccount, amount: Decimal, now: DateTime<Utc>) -> String {
    let id = format!("f-{}", account.funds.len() + 1);
    let id = if account.funds.iter().any(|f| f.id == id) {
        format!("f-{}-{}", account.funds.len() + 1, now.timestamp())
    } else {
        id
    };
    account.funds.push(Fund {
        id: id.clone(),
        purchased_at: now,
        amount: Amount(amount),
        remaining: Amount(amount),
        extra: Default::default(),
    });
    id
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tenant::snapshot::{BillingAccountType, CreditsAccount};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn account(funds: &[(&str, &str)]) -> CreditsAccount {
        let mut a = CreditsAccount {
            billing_account_type: BillingAccountType::Mosa,
            currency: "USD".into(),
            funds: vec![],
            auto_recharge: Default::default(),
            payment: Default::default(),
            extra: Default::default(),
        };
        for (date, amount) in funds {
            add_funds(&mut a, Amount::parse(amount).unwrap().0, at(date));
        }
        a
    }

    #[test]
    fn funds_expire_exactly_twelve_months_after_purchase() {
        let a = account(&[
            ("2025-01-15T00:00:00Z", "100.00"),
            ("2025-06-01T00:00:00Z", "50.25"),
        ]);
        assert_eq!(
            usable_balance(&a, at("2026-01-14T23:59:59Z")),
            Decimal::new(15025, 2)
        );
        assert_eq!(
            usable_balance(&a, at("2026-01-15T00:00:00Z")),
            Decimal::new(5025, 2)
        );
        assert_eq!(
            expiring_within(&a, at("2026-01-01T00:00:00Z"), 30),
            Decimal::new(10000, 2)
        );
    }

    #[test]
    fn charges_consume_oldest_funds_first() {
        let mut a = account(&[
            ("2026-03-01T00:00:00Z", "20.00"),
            ("2026-01-01T00:00:00Z", "10.00"),
        ]);
        let left = consume_fifo(&mut a, Decimal::new(1250, 2), at("2026-04-01T00:00:00Z"));
        assert_eq!(left, Decimal::ZERO);
        assert_eq!(a.funds[1].remaining.0, Decimal::ZERO);
        assert_eq!(a.funds[0].remaining.0, Decimal::new(1750, 2));
    }
}
