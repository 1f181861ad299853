//! License names (SPEC §2): the friendly names of the YAML, the SKU part numbers they mean,
//! and the capabilities that service plans give.

use std::fmt;

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

    /// The fixed part number, or `None` for pay-as-you-go, which is found by prefix.
    pub fn part_number(self) -> Option<&'static str> {
        match self {
            Friendly::AudioConferencing => Some("MCOMEETADV"),
            Friendly::PhoneSystem => Some("MCOEV"),
            Friendly::DomesticCallingPlan => Some("MCOPSTN1"),
            Friendly::InternationalCallingPlan => Some("MCOPSTN2"),
            Friendly::DomesticCallingPlan120 => Some("MCOPSTN5"),
            Friendly::PayAsYouGoCallingPlan => None,
            Friendly::CommunicationsCredits => Some("MCOPSTNC"),
        }
    }

    /// True when `part_number` is a SKU this friendly name can mean.
    pub fn matches_part_number(self, part_number: &str) -> bool {
        match self.part_number() {
            Some(p) => p.eq_ignore_ascii_case(part_number),
            None => part_number.starts_with(PAYG_PREFIX),
        }
    }

    /// The friendly name for a part number, if it has one.
    pub fn for_part_number(part_number: &str) -> Option<Friendly> {
        Friendly::ALL
            .into_iter()
            .find(|f| f.matches_part_number(part_number))
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

/// What a service plan lets a user do, as far as commcred cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Capability {
    AudioConferencing,
    TeamsPhone,
    CallingPlan,
    CommunicationsCredits,
}

impl Capability {
    pub fn label(self) -> &'static str {
        match self {
            Capability::AudioConferencing => "audio conferencing",
            Capability::TeamsPhone => "Teams Phone",
            Capability::CallingPlan => "a calling plan",
            Capability::CommunicationsCredits => "communications credits",
        }
    }

    /// The capability a service plan gives, by its `servicePlanName` (SPEC §2).
    pub fn of_service_plan(name: &str) -> Option<Capability> {
        match name {
            "MCOMEETADV" => Some(Capability::AudioConferencing),
            "MCOEV" | "MCOEVSMB" | "MCOEV_VIRTUALUSER" => Some(Capability::TeamsPhone),
            "MCOPSTNC" => Some(Capability::CommunicationsCredits),
            "PSTN5_US" => Some(Capability::CallingPlan),
            n if n.starts_with("MCOPSTN") => Some(Capability::CallingPlan),
            _ => None,
        }
    }
}

/// A set of capabilities, small enough to be a bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct Capabilities(u8);

impl Capabilities {
    fn bit(c: Capability) -> u8 {
        1 << (c as u8)
    }
    pub fn insert(&mut self, c: Capability) {
        self.0 |= Self::bit(c);
    }
    pub fn has(&self, c: Capability) -> bool {
        self.0 & Self::bit(c) != 0
    }
    pub fn union(self, other: Capabilities) -> Capabilities {
        Capabilities(self.0 | other.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn service_plans_map_to_capabilities() {
        assert_eq!(
            Capability::of_service_plan("MCOPSTN_6"),
            Some(Capability::CallingPlan)
        );
        assert_eq!(
            Capability::of_service_plan("MCOPSTNC"),
            Some(Capability::CommunicationsCredits)
        );
        assert_eq!(
            Capability::of_service_plan("MCOEVSMB"),
            Some(Capability::TeamsPhone)
        );
        assert_eq!(Capability::of_service_plan("EXCHANGE_S_ENTERPRISE"), None);
    }

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
        assert!(
            Friendly::PayAsYouGoCallingPlan
                .matches_part_number("Microsoft_Teams_Calling_Plan_pay_as_you_go_(country_zone_1)")
        );
    }
}
