//! Exact decimal money. Amounts never pass through a float: they are parsed from their text,
//! stored as `rust_decimal::Decimal`, and always shown with their currency.

use std::fmt;
use std::str::FromStr;

use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::base::codes::currency_minor_units;

/// A non-validated exact amount as it appears in snapshot files (`"120.50"`).
///
/// Serialized as a JSON string so that no reader ever turns it into a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Amount(pub Decimal);

impl Amount {
    pub const ZERO: Amount = Amount(Decimal::ZERO);

    /// Parses plain decimal text (`12`, `12.5`, `-3.25`); rejects exponents and other noise.
    pub fn parse(text: &str) -> Result<Amount, AmountError> {
        let text = text.trim();
        let digits = text.strip_prefix('-').unwrap_or(text);
        let plain = !digits.is_empty()
            && digits.chars().all(|c| c.is_ascii_digit() || c == '.')
            && digits.chars().filter(|c| *c == '.').count() <= 1
            && !digits.starts_with('.')
            && !digits.ends_with('.');
        if !plain {
            return Err(AmountError::NotPlain(text.to_string()));
        }
        Decimal::from_str(text)
            .map(Amount)
            .map_err(|source| AmountError::OutOfRange {
                text: text.to_string(),
                source,
            })
    }

    /// Number of decimal places written (`10.50` has 2).
    pub fn scale(&self) -> u32 {
        self.0.scale()
    }

    /// Text with exactly the currency's number of decimals (`379.5` in USD is `379.50`).
    pub fn format_for(&self, currency: &str) -> String {
        let units = currency_minor_units(currency).unwrap_or(2);
        let mut value = self.0;
        value.rescale(units);
        value.to_string()
    }
}

/// Why a text is not an [`Amount`].
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum AmountError {
    /// Not plain decimal digits: an exponent, a sign in the wrong place, separators.
    #[error("`{0}` is not a decimal number")]
    NotPlain(String),
    /// Plain digits that do not fit a decimal (too many of them).
    #[error("`{text}` is not a decimal number: {source}")]
    OutOfRange {
        text: String,
        source: rust_decimal::Error,
    },
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.0.to_string())
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        // Accept the documented string form; a bare JSON number is read from its text by
        // serde_json only when arbitrary precision is on, so insist on strings.
        let text = String::deserialize(deserializer)?;
        Amount::parse(&text).map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for Amount {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Amount".into()
    }
    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({
            "type": "string",
            "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
            "description": "An exact decimal amount written as a string, e.g. \"120.50\"."
        })
    }
}

/// An amount together with its ISO 4217 currency: the only way money is displayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Money {
    pub amount: Amount,
    pub currency: String,
}

impl Money {
    pub fn new(amount: Decimal, currency: impl Into<String>) -> Money {
        Money {
            amount: Amount(amount),
            currency: currency.into(),
        }
    }
}

impl fmt::Display for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {}",
            self.amount.format_for(&self.currency),
            self.currency
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_keeps_the_written_scale() {
        let a = Amount::parse("10.50").unwrap();
        assert_eq!(a.scale(), 2);
        assert_eq!(a.to_string(), "10.50");
        assert!(Amount::parse("1e3").is_err());
        assert!(Amount::parse("ten").is_err());
        assert!(Amount::parse(".5").is_err());
        assert!(Amount::parse("").is_err());
        assert_eq!(Amount::parse("-3.25").unwrap().0, Decimal::new(-325, 2));
    }

    #[test]
    fn money_shows_currency_decimals() {
        assert_eq!(
            Money::new(Decimal::new(3795, 1), "USD").to_string(),
            "379.50 USD"
        );
        assert_eq!(
            Money::new(Decimal::new(1200, 0), "JPY").to_string(),
            "1200 JPY"
        );
    }

    #[test]
    fn amounts_serialize_as_strings() {
        let a: Amount = serde_json::from_str("\"0.10\"").unwrap();
        assert_eq!(serde_json::to_string(&a).unwrap(), "\"0.10\"");
        assert!(serde_json::from_str::<Amount>("0.1").is_err());
    }
}
