//! Telephone numbers as Teams stores them: E.164 (`+` and up to 15 digits), and the three
//! kinds of number a Teams user can be given.
//!
//! Graph's `numberAssignment.telephoneNumber` "is always displayed with a '+' prefix,
//! regardless of whether it was originally assigned with one" (numberAssignment resource
//! type, read 2026-12-07): the `+` form is the one commcred.yaml, the snapshot and the plan
//! use, and the one numbers are compared in.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Graph's `numberType` values a user's number can have (`internalError` and
/// `unknownFutureValue` are not numbers one can ask for).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NumberType {
    /// A number Microsoft provides with a Calling Plan.
    CallingPlan,
    /// A number routed through the organisation's own session border controller.
    DirectRouting,
    /// A number from an Operator Connect operator.
    OperatorConnect,
}

impl NumberType {
    pub const ALL: [NumberType; 3] = [
        NumberType::CallingPlan,
        NumberType::DirectRouting,
        NumberType::OperatorConnect,
    ];

    /// Graph's spelling (`callingPlan`), also the YAML's.
    pub fn as_str(self) -> &'static str {
        match self {
            NumberType::CallingPlan => "callingPlan",
            NumberType::DirectRouting => "directRouting",
            NumberType::OperatorConnect => "operatorConnect",
        }
    }

    /// Teams PowerShell's `-PhoneNumberType` value (`CallingPlan`).
    pub fn powershell(self) -> &'static str {
        match self {
            NumberType::CallingPlan => "CallingPlan",
            NumberType::DirectRouting => "DirectRouting",
            NumberType::OperatorConnect => "OperatorConnect",
        }
    }

    /// Graph's value exactly (the YAML and the snapshot use Graph's spelling).
    pub fn parse(text: &str) -> Option<NumberType> {
        NumberType::ALL.into_iter().find(|t| t.as_str() == text)
    }

    /// The value meant by a spelling in another case (`DirectRouting`, Graph's own `$filter`
    /// example, or Teams PowerShell's), for a "did you mean" hint and for reading Graph.
    pub fn parse_any_case(text: &str) -> Option<NumberType> {
        NumberType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(text))
    }
}

impl fmt::Display for NumberType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// True for an E.164 number as Teams displays it: `+`, a first digit 1-9, at most 15 digits
/// in all (ITU-T E.164), nothing else.
pub fn is_e164(text: &str) -> bool {
    let Some(digits) = text.strip_prefix('+') else {
        return false;
    };
    (2..=15).contains(&digits.len())
        && digits.bytes().all(|b| b.is_ascii_digit())
        && !digits.starts_with('0')
}

/// The E.164 form of a number written another way (`+1 (425) 555-0100`, `tel:+1...`,
/// `0044...`, `14255550100`), when one exists: separators dropped, an international `00`
/// prefix replaced by `+`, a missing `+` added. `None` when no E.164 number can be read.
pub fn normalise(text: &str) -> Option<String> {
    let trimmed = text.trim();
    let rest = trimmed
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("tel:"))
        .map_or(trimmed, |_| &trimmed[4..]);
    let (plus, rest) = match rest.strip_prefix('+') {
        Some(r) => (true, r),
        None => (false, rest),
    };
    let mut digits = String::with_capacity(rest.len());
    for c in rest.chars() {
        match c {
            '0'..='9' => digits.push(c),
            ' ' | '-' | '.' | '(' | ')' | '/' | '\u{a0}' => {}
            _ => return None,
        }
    }
    let digits = match digits.strip_prefix("00") {
        Some(d) if !plus => d.to_string(),
        _ => digits,
    };
    let candidate = format!("+{digits}");
    is_e164(&candidate).then_some(candidate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn e164_is_plus_and_digits() {
        assert!(is_e164("+14255550100"));
        assert!(!is_e164("14255550100"));
        assert!(!is_e164("+1 425 555 0100"));
        assert!(!is_e164("+04255550100"));
        assert!(!is_e164("+1234567890123456"));
        assert!(!is_e164("+"));
    }

    #[test]
    fn other_spellings_normalise() {
        assert_eq!(
            normalise("+1 (425) 555-0100").as_deref(),
            Some("+14255550100")
        );
        assert_eq!(
            normalise("tel:+14255550100").as_deref(),
            Some("+14255550100")
        );
        assert_eq!(
            normalise("0044 20 7946 0000").as_deref(),
            Some("+442079460000")
        );
        assert_eq!(normalise("14255550100").as_deref(), Some("+14255550100"));
        assert_eq!(normalise("425.555.0100").as_deref(), Some("+4255550100"));
        assert_eq!(normalise("call me"), None);
        assert_eq!(normalise("+1 425 555 0100 ext 5"), None);
    }

    #[test]
    fn number_types_use_graphs_spelling() {
        assert_eq!(
            NumberType::parse("directRouting"),
            Some(NumberType::DirectRouting)
        );
        assert_eq!(NumberType::parse("DirectRouting"), None);
        assert_eq!(
            NumberType::parse_any_case("DirectRouting"),
            Some(NumberType::DirectRouting)
        );
    }
}
