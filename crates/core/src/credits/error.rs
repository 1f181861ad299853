//! The credits diagnostics. Every code is `commcred::credits::<name>` and stable: scripts and
//! docs/credits.md refer to them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, SourceSpan};

use super::codes::Code;
use crate::base::fsio::FsError;
use crate::base::money::AmountError;

/// One problem in a usage CSV, pointing at the offending field (file:line:column).
#[derive(Debug, Clone)]
pub struct CsvProblem {
    pub code: &'static str,
    pub file: PathBuf,
    /// 1-based line and column (in characters) of the field.
    pub line: usize,
    pub column: usize,
    pub message: String,
    pub label: String,
    pub help: String,
    pub span: SourceSpan,
    pub source: crate::base::source_window::Windowed<Arc<str>>,
}

impl fmt::Display for CsvProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for CsvProblem {}

impl miette::Diagnostic for CsvProblem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(&self.help))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(&self.source)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            self.span,
        ))))
    }
}

/// Every problem found in one usage CSV (at most [`MAX_CSV_PROBLEMS`]); nothing is imported
/// when there is one.
#[derive(Debug, Clone)]
pub struct UsageFileErrors {
    pub file: PathBuf,
    pub problems: Vec<CsvProblem>,
    /// Problems found beyond the ones kept.
    pub more: usize,
}

/// A broken export usually breaks every row the same way; a few examples are enough.
pub const MAX_CSV_PROBLEMS: usize = 20;

impl fmt::Display for UsageFileErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.problems.len() + self.more;
        write!(
            f,
            "{} has {n} problem{}; nothing was imported",
            self.file.display(),
            if n == 1 { "" } else { "s" }
        )?;
        if let Some(first) = self.problems.first() {
            write!(f, " (first: {first})")?;
        }
        Ok(())
    }
}

impl std::error::Error for UsageFileErrors {}

impl miette::Diagnostic for UsageFileErrors {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(Code::UsageInvalid.as_str()))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(
            "export the report again from the Teams admin center (Analytics & reports > Usage reports > PSTN and SMS usage > Export to Excel) and import the CSV unchanged",
        ))
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        Some(Box::new(
            self.problems.iter().map(|p| p as &dyn miette::Diagnostic),
        ))
    }
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CreditsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    UsageFile(Box<UsageFileErrors>),

    #[error("cannot read the usage export {}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::credits::usage_unreadable),
        help("check the path; the file is the CSV inside the zip the Teams admin center exports")
    )]
    UsageUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot read the usage export {}: {}:{line}:{column}: not UTF-8 text; save the CSV as UTF-8", .path.display(), .path.display())]
    #[diagnostic(
        code(commcred::credits::usage_not_utf8),
        help(
            "import the CSV the Teams admin center exports unchanged; from Excel, Save As > \"CSV UTF-8 (Comma delimited)\""
        )
    )]
    UsageNotUtf8 {
        path: PathBuf,
        line: usize,
        column: usize,
    },

    #[error("the credits ledger {} does not exist", .path.display())]
    #[diagnostic(
        code(commcred::credits::ledger_missing),
        help(
            "read the balance in the Microsoft 365 admin center (Billing > Your products > Communication Credits), then record it: commcred ledger record --billing-account MOSA --fund AMOUNT@PURCHASE-DATE"
        )
    )]
    LedgerMissing { path: PathBuf },

    /// The ledger file exists but cannot be read (permissions, a folder in its place).
    #[error("cannot read the credits ledger {}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::credits::ledger_unreadable),
        help(
            "check the ledger's path and permissions (`communicationsCredits.ledger`, or --ledger)"
        )
    )]
    LedgerUnreadable {
        path: PathBuf,
        source: std::io::Error,
    },

    /// The ledger is not the JSON commcred writes.
    #[error("cannot read the credits ledger {}:{line}:{column}: {source}", .path.display())]
    #[diagnostic(
        code(commcred::credits::ledger_invalid),
        help(
            "the ledger is JSON written by commcred; restore it from version control if it was edited by hand"
        )
    )]
    LedgerInvalid {
        path: PathBuf,
        line: usize,
        column: usize,
        source: serde_json::Error,
    },

    /// A newer commcred wrote the ledger.
    #[error("cannot read the credits ledger {}: it has format version {found}, this commcred reads up to {supported}; upgrade commcred", .path.display())]
    #[diagnostic(
        code(commcred::credits::ledger_too_new),
        help("upgrade commcred to the version that wrote the ledger (or a later one)")
    )]
    LedgerTooNew {
        path: PathBuf,
        found: u32,
        supported: u32,
    },

    /// The ledger's folder does not exist.
    #[error("cannot write the credits ledger {}: the folder {} does not exist", .path.display(), .folder.display())]
    #[diagnostic(
        code(commcred::credits::ledger_unwritable),
        help("nothing was recorded; check permissions and free space, then confirm again")
    )]
    LedgerNoFolder { path: PathBuf, folder: PathBuf },

    /// Writing the ledger (or taking its lock) failed; the file is as it was.
    #[error("cannot write the credits ledger {}: {}", .path.display(), .source.cause())]
    #[diagnostic(
        code(commcred::credits::ledger_unwritable),
        help("nothing was recorded; check permissions and free space, then confirm again")
    )]
    LedgerUnwritable { path: PathBuf, source: FsError },

    /// Another commcred holds the ledger for longer than this one waits.
    #[error("cannot write the credits ledger {}: {}", .path.display(), .source.cause())]
    #[diagnostic(
        code(commcred::credits::ledger_locked),
        help(
            "nothing was recorded; wait for it to finish (or stop it), or pass --lock-timeout 60s to wait longer"
        )
    )]
    LedgerLocked { path: PathBuf, source: FsError },

    #[error("the credits ledger {} belongs to tenant {ledger}, not {live}", .path.display())]
    #[diagnostic(
        code(commcred::credits::ledger_tenant_mismatch),
        help("point `communicationsCredits.ledger` at this tenant's ledger")
    )]
    LedgerTenantMismatch {
        path: PathBuf,
        ledger: String,
        live: String,
    },

    #[error(
        "the credits ledger {} changed since the plan was made: {changes}; nothing was recorded", .path.display()
    )]
    #[diagnostic(
        code(commcred::credits::ledger_stale),
        help("run `commcred plan` again, review the new steps, and apply that")
    )]
    LedgerStale {
        path: PathBuf,
        changes: LedgerChanges,
    },

    #[error("cannot read the PSTN call log from Microsoft Graph: {message}")]
    #[diagnostic(
        code(commcred::credits::pstn_calls),
        help(
            "the application needs the CallRecords.Read.All permission; or import the Teams admin center export with `commcred usage import FILE.csv`"
        )
    )]
    PstnCalls { message: String },

    /// What `ledger record` was given cannot be recorded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Record(#[from] RecordError),
}

impl CreditsError {
    /// The error of writing the ledger at `path`: a lock held too long is its own problem.
    pub fn ledger_write(path: &Path, source: FsError) -> CreditsError {
        let path = path.to_path_buf();
        match source {
            FsError::Busy { .. } => CreditsError::LedgerLocked { path, source },
            _ => CreditsError::LedgerUnwritable { path, source },
        }
    }
}

/// What changed in a ledger since a plan observed it (see
/// [`crate::backend::ledger::LedgerAccount::differs_from`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LedgerChanges {
    pub auto_recharge: bool,
    pub payment: bool,
    /// Funds recorded since, by id.
    pub new_funds: Vec<String>,
}

impl LedgerChanges {
    pub fn is_empty(&self) -> bool {
        !self.auto_recharge && !self.payment && self.new_funds.is_empty()
    }
}

impl fmt::Display for LedgerChanges {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut what = Vec::new();
        if self.auto_recharge {
            what.push("the auto-recharge settings".to_string());
        }
        if self.payment {
            what.push("the payment settings".to_string());
        }
        if !self.new_funds.is_empty() {
            what.push(format!("fund {} was recorded", self.new_funds.join(", ")));
        }
        f.write_str(&what.join(", "))
    }
}

const FUND_HELP: &str = "write --fund AMOUNT@YYYY-MM-DD, e.g. --fund 120.50@2026-03-15";

/// Why `ledger record` refuses what it was given; nothing is recorded.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum RecordError {
    #[error("nothing to record")]
    #[diagnostic(
        code(commcred::credits::nothing_to_record),
        help(
            "give --billing-account and/or one --fund AMOUNT@DATE per purchase still holding money"
        )
    )]
    NothingToRecord,

    /// `--fund` is not `AMOUNT[@DATE]` with an amount of the account's currency or a date.
    #[error("--fund {text}: {problem}")]
    #[diagnostic(code(commcred::credits::bad_fund), help("{FUND_HELP}"))]
    BadFund { text: String, problem: FundProblem },

    #[error("--fund {text}: the purchase date is in the future")]
    #[diagnostic(code(commcred::credits::fund_in_future), help("{FUND_HELP}"))]
    FundInFuture { text: String },

    #[error("--fund {text}: funds bought on {} expired 12 months later", .bought.format("%Y-%m-%d"))]
    #[diagnostic(
        code(commcred::credits::fund_expired),
        help("record only purchases from the last 12 months: older funds are gone")
    )]
    FundExpired {
        text: String,
        bought: chrono::DateTime<chrono::Utc>,
    },

    #[error("the account's currency is not known")]
    #[diagnostic(
        code(commcred::credits::currency_unknown),
        help("give --currency, e.g. --currency USD")
    )]
    CurrencyUnknown,

    #[error("`{0}` is not an ISO 4217 currency")]
    #[diagnostic(code(commcred::credits::bad_currency), help("e.g. --currency USD"))]
    BadCurrency(String),

    /// A new ledger needs the billing account type.
    #[error("{} has no credits account yet", .0.display())]
    #[diagnostic(
        code(commcred::credits::no_account),
        help("give --billing-account MOSA (or MCA, CSP) as shown in Billing > Billing accounts")
    )]
    NoAccount(PathBuf),

    #[error("the ledger's account is in {ledger}, not {given}")]
    #[diagnostic(
        code(commcred::credits::account_currency),
        help("a credits account has one currency; record amounts in it")
    )]
    AccountCurrency { ledger: String, given: String },
}

/// What is wrong with a `--fund` value.
#[derive(Debug, Clone, PartialEq)]
pub enum FundProblem {
    /// The amount is not a decimal number.
    NotAnAmount(AmountError),
    /// Negative, or more decimals than the currency has.
    NotOfCurrency { currency: String, decimals: u32 },
    /// The text after `@` is not a date.
    NotADate(String),
}

impl fmt::Display for FundProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FundProblem::NotAnAmount(why) => why.fmt(f),
            FundProblem::NotOfCurrency { currency, decimals } => write!(
                f,
                "not an amount of {currency} (at most {decimals} decimals, not negative)"
            ),
            FundProblem::NotADate(date) => write!(f, "`{date}` is not a date"),
        }
    }
}
