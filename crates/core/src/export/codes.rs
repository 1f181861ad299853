//! The diagnostic codes of export's warnings: one variant per problem, spelled once, in
//! [`Code::as_str`] (docs/diagnostics.md lists each with its fix; a test checks it).

/// A stable code, `commcred::export::<name>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Code {
    SettingSkipped,
    GroupSkipped,
    UserSkipped,
    NotANoOp,
}

impl Code {
    /// Every code, for the test that each is unique and documented.
    pub const ALL: [Code; 4] = [
        Code::SettingSkipped,
        Code::GroupSkipped,
        Code::UserSkipped,
        Code::NotANoOp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Code::SettingSkipped => "commcred::export::setting_skipped",
            Code::GroupSkipped => "commcred::export::group_skipped",
            Code::UserSkipped => "commcred::export::user_skipped",
            Code::NotANoOp => "commcred::export::not_a_no_op",
        }
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
