//! The credits diagnostics. Every code is `commcred::credits::<name>` and stable: scripts and
//! docs/credits.md refer to them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{LabeledSpan, SourceSpan};

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
        Some(Box::new("commcred::credits::usage_invalid"))
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

    #[error("cannot read the usage export {path}: {message}")]
    #[diagnostic(
        code(commcred::credits::usage_unreadable),
        help("check the path; the file is the CSV inside the zip the Teams admin center exports")
    )]
    UsageUnreadable { path: PathBuf, message: String },

    #[error("the credits ledger {path} does not exist")]
    #[diagnostic(
        code(commcred::credits::ledger_missing),
        help(
            "read the balance in the Microsoft 365 admin center (Billing > Your products > Communication Credits), then record it: commcred ledger record --billing-account MOSA --fund AMOUNT@PURCHASE-DATE"
        )
    )]
    LedgerMissing { path: PathBuf },

    #[error("cannot read the credits ledger {what}: {message}")]
    #[diagnostic(
        code(commcred::credits::ledger_unreadable),
        help(
            "the ledger is JSON written by commcred; restore it from version control if it was edited by hand"
        )
    )]
    LedgerUnreadable { what: String, message: String },

    #[error("cannot write the credits ledger {path}: {message}")]
    #[diagnostic(
        code(commcred::credits::ledger_unwritable),
        help("nothing was recorded; check permissions and free space, then confirm again")
    )]
    LedgerUnwritable { path: PathBuf, message: String },

    #[error("the credits ledger {path} belongs to tenant {ledger}, not {live}")]
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
        "the credits ledger {path} changed since the plan was made: {what}; nothing was recorded"
    )]
    #[diagnostic(
        code(commcred::credits::ledger_stale),
        help("run `commcred plan` again, review the new steps, and apply that")
    )]
    LedgerStale { path: PathBuf, what: String },

    #[error("cannot read the PSTN call log from Microsoft Graph: {message}")]
    #[diagnostic(
        code(commcred::credits::pstn_calls),
        help(
            "the application needs the CallRecords.Read.All permission; or import the Teams admin center export with `commcred usage import FILE.csv`"
        )
    )]
    PstnCalls { message: String },

    #[error("{message}")]
    #[diagnostic(code(commcred::credits::bad_argument), help("{help}"))]
    BadArgument { message: String, help: String },
}

impl CreditsError {
    pub fn ledger_unreadable(path: &Path, message: impl Into<String>) -> CreditsError {
        CreditsError::LedgerUnreadable {
            what: path.display().to_string(),
            message: message.into(),
        }
    }
}
