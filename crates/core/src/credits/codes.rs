//! The diagnostic codes of the credits usage import: one variant per problem, spelled once, in
//! [`Code::as_str`] (docs/diagnostics.md lists each with its fix; a test checks it).

/// A stable code, `commcred::credits::<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    UsageMissingColumn,
    UsageBadValue,
    UsageFieldCount,
    UsageWrongDelimiter,
    UsageBadCsv,
    UsageInvalid,
}

impl Code {
    /// Every code, for the test that each is unique and documented.
    pub const ALL: [Code; 6] = [
        Code::UsageMissingColumn,
        Code::UsageBadValue,
        Code::UsageFieldCount,
        Code::UsageWrongDelimiter,
        Code::UsageBadCsv,
        Code::UsageInvalid,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::UsageMissingColumn => "commcred::credits::usage_missing_column",
            Code::UsageBadValue => "commcred::credits::usage_bad_value",
            Code::UsageFieldCount => "commcred::credits::usage_field_count",
            Code::UsageWrongDelimiter => "commcred::credits::usage_wrong_delimiter",
            Code::UsageBadCsv => "commcred::credits::usage_bad_csv",
            Code::UsageInvalid => "commcred::credits::usage_invalid",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
