//! License names (SPEC §2): the friendly names of the YAML, the SKU part numbers they mean,
//! and the capabilities that service plans give.

use std::fmt;

pub use crate::base::catalog::{Capabilities, Capability};

/// A friendly license name usable in `commcred.yaml`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Friendly {
    AudioConferencing,
    PhoneSystem,
    DomesticCallingPlan,
    InternationalCallingPlan,
    DomesticCallingPlan120,
    PayAsYouGoCallingPlan,
    CommunicationsCredits,
}

/// Prefix of the pay-as-you-go calling plan part numbers (they vary by country zone).
pub const PAYG_PREFIX: &str = "Microsoft_Teams_Calling_Plan_pay_as_you_go";

impl Friendly {
    pub const ALL: [Friendly; 7] = [
        Friendly::AudioConferencing,
        Friendly::PhoneSystem,
        Friendly::DomesticCallingPlan,
        Friendly::InternationalCallingPlan,
        Friendly::DomesticCallingPlan120,
        Friendly::PayAsYouGoCallingPlan,
        Friendly::CommunicationsCredits,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Friendly::AudioConferencing => "audioConferencing",
            Friendly::PhoneSystem => "phoneSystem",
            Friendly::DomesticCallingPlan => "domesticCallingPlan",
            Friendly::InternationalCallingPlan => "internationalCallingPlan",
            Friendly::DomesticCallingPlan120 => "domesticCallingPlan120",
            Friendly::PayAsYouGoCallingPlan => "payAsYouGoCallingPlan",
            Friendly::CommunicationsCredits => "communicationsCredits",
        }
    }

    pub fn from_name(name: &str) -> Option<Friendly> {
        Friendly::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The capabilities a SKU must sell for this name to mean it (SPEC §2): the one
    /// subscribed add-on SKU selling one of them is what the name resolves to.
    pub fn capabilities(self) -> &'static [Capability] {
        match self {
            Friendly::AudioConferencing => &[
                Capability::AudioConferencing,
                Capability::AudioConferencingPayPerMinute,
            ],
            Friendly::PhoneSystem => &[Capability::TeamsPhone],
            Friendly::DomesticCallingPlan => &[Capability::DomesticCallingPlan],
            Friendly::InternationalCallingPlan => &[Capability::InternationalCallingPlan],
            Friendly::DomesticCallingPlan120 => &[Capability::DomesticCallingPlan120],
            Friendly::PayAsYouGoCallingPlan => &[Capability::PayAsYouGoCallingPlan],
            Friendly::CommunicationsCredits => &[Capability::CommunicationsCredits],
        }
    }

    /// The friendly name of a sold capability, if it has one. Teams Phone for resource
    /// accounts and select dial-out have none: write their part number.
    pub fn for_capability(capability: Capability) -> Option<Friendly> {
        Friendly::ALL
            .into_iter()
            .find(|f| f.capabilities().contains(&capability))
    }
}

impl fmt::Display for Friendly {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A license as written in the YAML: a friendly name or a raw SKU part number.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LicenseName {
    Friendly(Friendly),
    PartNumber(String),
}

impl LicenseName {
    /// Classifies a name from the YAML. Friendly names are camelCase words; anything that
    /// looks like a part number (upper case, digits, `_`, or the pay-as-you-go family) is taken
    /// as one and checked against the live tenant at plan time. `None`: neither (a typo).
    pub fn classify(text: &str) -> Option<LicenseName> {
        if let Some(f) = Friendly::from_name(text) {
            return Some(LicenseName::Friendly(f));
        }
        let looks_like_part_number = !text.is_empty()
            && (text.starts_with(PAYG_PREFIX)
                || text
                    .chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || "_-.".contains(c)));
        looks_like_part_number.then(|| LicenseName::PartNumber(text.to_string()))
    }

    pub fn as_str(&self) -> &str {
        match self {
            LicenseName::Friendly(f) => f.name(),
            LicenseName::PartNumber(p) => p,
        }
    }
}

impl fmt::Display for LicenseName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_classify() {
        assert_eq!(
            LicenseName::classify("phoneSystem"),
            Some(LicenseName::Friendly(Friendly::PhoneSystem))
        );
        assert_eq!(
            LicenseName::classify("MCOPSTN_6"),
            Some(LicenseName::PartNumber("MCOPSTN_6".into()))
        );
        assert_eq!(LicenseName::classify("phoneSytem"), None);
        assert_eq!(
            Friendly::for_capability(Capability::AudioConferencingPayPerMinute),
            Some(Friendly::AudioConferencing)
        );
        assert_eq!(
            Friendly::for_capability(Capability::TeamsPhoneResourceAccount),
            None
        );
    }
}
