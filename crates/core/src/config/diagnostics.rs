//! The problems found in `commcred.yaml` and its CSV files, as miette diagnostics.
//!
//! Every problem has a stable code (`commcred::config::<name>`, listed in [`Code::ALL`] and
//! documented in docs/diagnostics.md), a label on the offending text in its own file (the
//! YAML or a CSV), and a help line saying what to do. [`ConfigError`] carries all of them.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, Severity, SourceCode,
    SourceSpan,
};

/// The stable diagnostic codes. Scripts and docs rely on them: never rename one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Code {
    /// The wrapper that carries every problem of one load.
    Invalid,
    Io,
    NotUtf8,
    Syntax,
    DuplicateKey,
    BudgetExceeded,
    UnknownKey,
    MissingKey,
    WrongType,
    ApiVersion,
    InvalidTenant,
    InvalidBackend,
    InvalidUserEntry,
    UnknownLicense,
    UnknownProfile,
    DuplicateUser,
    InvalidUpn,
    UpnTooLong,
    InvalidUsageLocation,
    InvalidCurrency,
    InvalidAmount,
    NegativeAmount,
    AmountNotPositive,
    TooManyDecimals,
    AutoRechargeIncomplete,
    AgreementNumberRequired,
    InvalidPaymentMethod,
    CsvUnreadable,
    CsvMalformed,
    CsvWrongDelimiter,
    CsvMissingUpnColumn,
    CsvUnknownColumn,
    CsvDuplicateColumn,
    CsvMissingUpn,
    InvalidGroupEntry,
    DuplicateGroup,
    InvalidPrefer,
    ProfilesFrom,
    InvalidBillingAccount,
    PricesUnreadable,
    InvalidDate,
    DuplicatePrice,
    PriceNotPartNumber,
    InvalidTerm,
    InvalidPhoneNumber,
    InvalidNumberType,
    DuplicatePhoneNumber,
}

impl Code {
    pub const ALL: [Code; 47] = [
        Code::Invalid,
        Code::Io,
        Code::NotUtf8,
        Code::Syntax,
        Code::DuplicateKey,
        Code::BudgetExceeded,
        Code::UnknownKey,
        Code::MissingKey,
        Code::WrongType,
        Code::ApiVersion,
        Code::InvalidTenant,
        Code::InvalidBackend,
        Code::InvalidUserEntry,
        Code::UnknownLicense,
        Code::UnknownProfile,
        Code::DuplicateUser,
        Code::InvalidUpn,
        Code::UpnTooLong,
        Code::InvalidUsageLocation,
        Code::InvalidCurrency,
        Code::InvalidAmount,
        Code::NegativeAmount,
        Code::AmountNotPositive,
        Code::TooManyDecimals,
        Code::AutoRechargeIncomplete,
        Code::AgreementNumberRequired,
        Code::InvalidPaymentMethod,
        Code::CsvUnreadable,
        Code::CsvMalformed,
        Code::CsvWrongDelimiter,
        Code::CsvMissingUpnColumn,
        Code::CsvUnknownColumn,
        Code::CsvDuplicateColumn,
        Code::CsvMissingUpn,
        Code::InvalidGroupEntry,
        Code::DuplicateGroup,
        Code::InvalidPrefer,
        Code::ProfilesFrom,
        Code::InvalidBillingAccount,
        Code::PricesUnreadable,
        Code::InvalidDate,
        Code::DuplicatePrice,
        Code::PriceNotPartNumber,
        Code::InvalidTerm,
        Code::InvalidPhoneNumber,
        Code::InvalidNumberType,
        Code::DuplicatePhoneNumber,
    ];

    /// The full code, e.g. `commcred::config::unknown_key`.
    pub fn as_str(self) -> &'static str {
        match self {
            Code::Invalid => "commcred::config::invalid",
            Code::Io => "commcred::config::io",
            Code::NotUtf8 => "commcred::config::not_utf8",
            Code::Syntax => "commcred::config::syntax",
            Code::DuplicateKey => "commcred::config::duplicate_key",
            Code::BudgetExceeded => "commcred::config::budget_exceeded",
            Code::UnknownKey => "commcred::config::unknown_key",
            Code::MissingKey => "commcred::config::missing_key",
            Code::WrongType => "commcred::config::wrong_type",
            Code::ApiVersion => "commcred::config::api_version",
            Code::InvalidTenant => "commcred::config::invalid_tenant",
            Code::InvalidBackend => "commcred::config::invalid_backend",
            Code::InvalidUserEntry => "commcred::config::invalid_user_entry",
            Code::UnknownLicense => "commcred::config::unknown_license",
            Code::UnknownProfile => "commcred::config::unknown_profile",
            Code::DuplicateUser => "commcred::config::duplicate_user",
            Code::InvalidUpn => "commcred::config::invalid_upn",
            Code::UpnTooLong => "commcred::config::upn_too_long",
            Code::InvalidUsageLocation => "commcred::config::invalid_usage_location",
            Code::InvalidCurrency => "commcred::config::invalid_currency",
            Code::InvalidAmount => "commcred::config::invalid_amount",
            Code::NegativeAmount => "commcred::config::negative_amount",
            Code::AmountNotPositive => "commcred::config::amount_not_positive",
            Code::TooManyDecimals => "commcred::config::too_many_decimals",
            Code::AutoRechargeIncomplete => "commcred::config::auto_recharge_incomplete",
            Code::AgreementNumberRequired => "commcred::config::agreement_number_required",
            Code::InvalidPaymentMethod => "commcred::config::invalid_payment_method",
            Code::CsvUnreadable => "commcred::config::csv_unreadable",
            Code::CsvMalformed => "commcred::config::csv_malformed",
            Code::CsvWrongDelimiter => "commcred::config::csv_wrong_delimiter",
            Code::CsvMissingUpnColumn => "commcred::config::csv_missing_upn_column",
            Code::CsvUnknownColumn => "commcred::config::csv_unknown_column",
            Code::CsvDuplicateColumn => "commcred::config::csv_duplicate_column",
            Code::CsvMissingUpn => "commcred::config::csv_missing_upn",
            Code::InvalidGroupEntry => "commcred::config::invalid_group_entry",
            Code::DuplicateGroup => "commcred::config::duplicate_group",
            Code::InvalidPrefer => "commcred::config::invalid_prefer",
            Code::ProfilesFrom => "commcred::config::profiles_from",
            Code::InvalidBillingAccount => "commcred::config::invalid_billing_account",
            Code::PricesUnreadable => "commcred::config::prices_unreadable",
            Code::InvalidDate => "commcred::config::invalid_date",
            Code::DuplicatePrice => "commcred::config::duplicate_price",
            Code::PriceNotPartNumber => "commcred::config::price_not_part_number",
            Code::InvalidTerm => "commcred::config::invalid_term",
            Code::InvalidPhoneNumber => "commcred::config::invalid_phone_number",
            Code::InvalidNumberType => "commcred::config::invalid_number_type",
            Code::DuplicatePhoneNumber => "commcred::config::duplicate_phone_number",
        }
    }
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A file that problems point into, shared by all of them (a 100k-line YAML is not copied
/// per diagnostic).
#[derive(Debug, Clone)]
pub struct SourceFile(Arc<SourceInner>);

#[derive(Debug)]
struct SourceInner {
    path: Arc<Path>,
    named: crate::base::source_window::Windowed<String>,
}

impl SourceFile {
    /// `path` is shown as given (relative paths stay relative), so users recognise it.
    pub fn new(path: &Path, text: String) -> SourceFile {
        let name = path.display().to_string();
        SourceFile(Arc::new(SourceInner {
            path: Arc::from(path),
            named: crate::base::source_window::Windowed::new(name, text),
        }))
    }

    pub fn path(&self) -> &Path {
        &self.0.path
    }

    /// The path, shared: every user's origin names its file without a copy of the path.
    pub fn shared_path(&self) -> Arc<Path> {
        Arc::clone(&self.0.path)
    }

    pub fn text(&self) -> &str {
        self.0.named.inner()
    }

    /// 1-based line and column (in characters) of a byte offset.
    pub fn line_column(&self, offset: usize) -> (usize, usize) {
        let text = self.text();
        let offset = floor_char_boundary(text, offset.min(text.len()));
        let before = &text[..offset];
        let line = before.matches('\n').count() + 1;
        let line_start = before.rfind('\n').map_or(0, |i| i + 1);
        (line, before[line_start..].chars().count() + 1)
    }

    /// Byte offset of a 1-based line and character column (for parser errors that carry
    /// no byte offset).
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        let text = self.text();
        let line_start = if line <= 1 {
            0
        } else {
            text.match_indices('\n')
                .nth(line - 2)
                .map_or(text.len(), |(i, _)| i + 1)
        };
        let rest = &text[line_start..];
        let in_line = rest
            .char_indices()
            .take_while(|(_, c)| *c != '\n')
            .nth(column.saturating_sub(1))
            .map_or_else(|| rest.find('\n').unwrap_or(rest.len()), |(i, _)| i);
        line_start + in_line
    }
}

/// Every value a message echoes is windowed (a long UPN or license name is cut, saying how
/// long it was), so no diagnostic grows with what the user wrote.
fn windowed(message: String) -> String {
    match crate::base::source_window::window_values(&message) {
        std::borrow::Cow::Borrowed(_) => message,
        std::borrow::Cow::Owned(short) => short,
    }
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// One problem, in one file.
#[derive(Debug, Clone)]
pub struct Problem {
    code: Option<Code>,
    severity: Severity,
    message: String,
    help: Option<String>,
    source: Option<SourceFile>,
    labels: Vec<LabeledSpan>,
    related: Vec<Problem>,
}

impl Problem {
    pub fn new(code: Code, message: impl Into<String>) -> Problem {
        Problem {
            code: Some(code),
            severity: Severity::Error,
            message: windowed(message.into()),
            help: None,
            source: None,
            labels: Vec::new(),
            related: Vec::new(),
        }
    }

    /// A note attached to another problem, e.g. "first listed here" in another file.
    pub fn note(message: impl Into<String>, source: &SourceFile, span: SourceSpan) -> Problem {
        Problem {
            code: None,
            severity: Severity::Advice,
            message: windowed(message.into()),
            help: None,
            source: Some(source.clone()),
            labels: vec![LabeledSpan::new_primary_with_span(None, span)],
            related: Vec::new(),
        }
    }

    /// The primary label: the text that is wrong.
    pub fn at(mut self, source: &SourceFile, span: SourceSpan, label: impl Into<String>) -> Self {
        let span = crate::base::source_window::clamp_label(source.text(), span);
        self.source = Some(source.clone());
        self.labels.insert(
            0,
            LabeledSpan::new_primary_with_span(Some(label.into()), span),
        );
        self
    }

    /// A secondary label in the same file.
    pub fn also(mut self, span: SourceSpan, label: impl Into<String>) -> Self {
        let span = match &self.source {
            Some(source) => crate::base::source_window::clamp_label(source.text(), span),
            None => span,
        };
        self.labels
            .push(LabeledSpan::new_with_span(Some(label.into()), span));
        self
    }

    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(windowed(help.into()));
        self
    }

    pub fn with_related(mut self, note: Problem) -> Self {
        self.related.push(note);
        self
    }

    pub fn code(&self) -> Option<Code> {
        self.code
    }

    pub fn message(&self) -> &str {
        &self.message
    }

    pub fn help_text(&self) -> Option<&str> {
        self.help.as_deref()
    }

    pub fn file(&self) -> Option<&Path> {
        self.source.as_ref().map(SourceFile::path)
    }

    /// 1-based line and column of the primary label, if the problem has a place.
    pub fn line_column(&self) -> Option<(usize, usize)> {
        let source = self.source.as_ref()?;
        let label = self.labels.first()?;
        Some(source.line_column(label.offset()))
    }

    /// Byte offset of the primary label in its file.
    pub fn offset(&self) -> Option<usize> {
        self.labels.first().map(LabeledSpan::offset)
    }

    pub fn notes(&self) -> &[Problem] {
        &self.related
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Problem {}

impl Diagnostic for Problem {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.code
            .map(|c| Box::new(c.as_str()) as Box<dyn fmt::Display>)
    }
    fn severity(&self) -> Option<Severity> {
        Some(self.severity)
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help
            .as_ref()
            .map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }
    fn source_code(&self) -> Option<&dyn SourceCode> {
        self.source.as_ref().map(|s| &s.0.named as &dyn SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(self.related.iter().map(|p| p as &dyn Diagnostic)))
        }
    }
}

/// Why `commcred.yaml` could not be loaded.
#[derive(Debug)]
pub enum ConfigError {
    /// The YAML file itself could not be read.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The file was read; these are all the problems found in it and its CSV files, in the
    /// order they appear.
    Invalid {
        path: PathBuf,
        problems: Vec<Problem>,
    },
}

impl ConfigError {
    /// Every problem, each a diagnostic of its own (the I/O error has none: it is the only
    /// problem and it is `self`).
    pub fn diagnostics(&self) -> &[Problem] {
        match self {
            ConfigError::Io { .. } => &[],
            ConfigError::Invalid { problems, .. } => problems,
        }
    }

    pub fn code(&self) -> Code {
        match self {
            ConfigError::Io { .. } => Code::Io,
            ConfigError::Invalid { .. } => Code::Invalid,
        }
    }

    /// Plain text (no colour, no terminal links), e.g. for tests, logs and `NO_COLOR`.
    pub fn render_plain(&self) -> String {
        let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
            .with_links(false)
            .with_width(100);
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = handler.render_report(&mut out, self);
        out
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::Io { path, source } => {
                write!(f, "cannot read {}: {source}", path.display())
            }
            ConfigError::Invalid { path, problems } => {
                let n = problems.len();
                let s = if n == 1 { "" } else { "s" };
                write!(f, "{} has {n} problem{s}", path.display())
            }
        }
    }
}

// No `source()`: the I/O cause is already in the message, and reports would repeat it.
impl std::error::Error for ConfigError {}

impl Diagnostic for ConfigError {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code().as_str()))
    }
    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        match self {
            ConfigError::Io { .. } => Some(Box::new(
                "check the path; CONFIG defaults to ./commcred.yaml",
            )),
            ConfigError::Invalid { .. } => None,
        }
    }
    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn Diagnostic> + 'a>> {
        match self {
            ConfigError::Io { .. } => None,
            ConfigError::Invalid { problems, .. } => {
                Some(Box::new(problems.iter().map(|p| p as &dyn Diagnostic)))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_documented() {
        let docs = include_str!("../../../../docs/diagnostics.md");
        let mut seen = HashSet::new();
        for code in Code::ALL {
            assert!(seen.insert(code.as_str()), "{code} listed twice");
            assert!(
                docs.contains(&format!("`{}`", code.as_str())),
                "{code} is missing from docs/diagnostics.md"
            );
        }
    }

    #[test]
    fn line_column_and_offset_agree() {
        let file = SourceFile::new(Path::new("x.yaml"), "ab\nçd: e\n\nf".into());
        assert_eq!(file.line_column(0), (1, 1));
        assert_eq!(file.line_column(3), (2, 1));
        assert_eq!(file.line_column(5), (2, 2)); // after the two-byte `ç`
        assert_eq!(file.offset_of(2, 2), 5);
        assert_eq!(file.offset_of(4, 1), 11);
        assert_eq!(file.offset_of(1, 99), 2); // clamped to the end of the line
    }

    #[test]
    fn rendering_shows_file_line_code_and_help() {
        let file = SourceFile::new(Path::new("dir/commcred.yaml"), "a: 1\nbad: 2\n".into());
        let err = ConfigError::Invalid {
            path: file.path().to_path_buf(),
            problems: vec![
                Problem::new(Code::UnknownKey, "unknown key `bad`")
                    .at(&file, SourceSpan::new(5.into(), 3), "not a known key")
                    .help("did you mean `a`?"),
            ],
        };
        let text = err.render_plain();
        assert!(text.contains("dir/commcred.yaml:2:1"), "{text}");
        assert!(text.contains("commcred::config::unknown_key"), "{text}");
        assert!(text.contains("did you mean `a`?"), "{text}");
        assert_eq!(err.diagnostics()[0].line_column(), Some((2, 1)));
    }
}
