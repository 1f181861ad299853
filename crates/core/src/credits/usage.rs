//! PSTN usage: one row per call, shaped like Microsoft Graph's `pstnCallLogRow` (what
//! `getPstnCalls` returns, what the snapshot's `pstnCalls` and the ledger keep), and the
//! import of the Teams admin center "PSTN and SMS usage" export into that shape.
//!
//! A call's cost to the credits account is `charge + connectionCharge` (the export's
//! "Charge" and "Connection Fee", both `numeric(16, 2)`): Microsoft lists them as separate
//! prices, so both are debited.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use rust_decimal::Decimal;
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::base::money::Amount;

use super::codes::Code;
use super::error::{CreditsError, CsvProblem, MAX_CSV_PROBLEMS, UsageFileErrors};

/// One PSTN call (Graph `pstnCallLogRow`). Fields commcred does not use are kept in `extra`
/// under their Graph names, so a row survives any number of reads and writes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRow {
    /// Unique per call (the export's `UsageId`): the key that makes imports idempotent.
    pub id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_principal_name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_display_name: Option<String>,
    pub start_date_time: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_date_time: Option<DateTime<Utc>>,
    /// Seconds connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration: Option<i64>,
    #[serde(
        default,
        deserialize_with = "graph_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub charge: Option<Amount>,
    #[serde(
        default,
        deserialize_with = "graph_decimal",
        skip_serializing_if = "Option::is_none"
    )]
    pub connection_charge: Option<Amount>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub currency: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub call_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license_capability: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl CallRow {
    /// What the call costs the credits account: charge plus connection fee.
    pub fn debit(&self) -> Decimal {
        self.charge.map_or(Decimal::ZERO, |a| a.0)
            + self.connection_charge.map_or(Decimal::ZERO, |a| a.0)
    }

    /// Upper-case ISO 4217 code, when the row has one.
    pub fn currency_code(&self) -> Option<String> {
        self.currency
            .as_deref()
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .map(str::to_ascii_uppercase)
    }

    /// True when the call cost money.
    pub fn is_charged(&self) -> bool {
        self.debit() > Decimal::ZERO
    }
}

/// Graph sends `Edm.Decimal` as a JSON number (or, with `IEEE754Compatible=true`, a string).
/// Strings are read exactly. serde_json has already turned a number into the nearest f64,
/// whose shortest round-trip text is the written decimal whenever it has at most 15
/// significant digits; beyond that the value could have changed, so it is refused rather
/// than used.
fn graph_decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Option<Amount>, D::Error> {
    let value = Value::deserialize(deserializer)?;
    decimal_from_json(&value).map_err(serde::de::Error::custom)
}

pub fn decimal_from_json(value: &Value) -> Result<Option<Amount>, String> {
    match value {
        Value::Null => Ok(None),
        Value::String(s) if s.trim().is_empty() => Ok(None),
        Value::String(s) => Amount::parse(s).map(Some).map_err(|e| e.to_string()),
        Value::Number(n) => {
            let text = n.to_string();
            let digits = text
                .trim_start_matches('-')
                .chars()
                .filter(char::is_ascii_digit)
                .collect::<String>();
            let significant = digits.trim_start_matches('0').len();
            if text.contains(['e', 'E']) || significant > 15 {
                return Err(format!(
                    "{text} cannot be read exactly as a JSON number; write it as a string"
                ));
            }
            Amount::parse(&text).map(Some).map_err(|e| e.to_string())
        }
        other => Err(format!("{other} is not an amount")),
    }
}

/// Reads `pstnCalls` rows from JSON (the snapshot's extra field). Rows that do not parse are
/// counted, not fatal: usage informs the plan, it never blocks it.
pub fn rows_from_json(value: Option<&Value>) -> (Vec<CallRow>, usize) {
    let Some(Value::Array(items)) = value else {
        return (Vec::new(), 0);
    };
    let mut rows = Vec::with_capacity(items.len());
    let mut bad = 0;
    for item in items {
        match serde_json::from_value::<CallRow>(item.clone()) {
            Ok(row) => rows.push(row),
            Err(_) => bad += 1,
        }
    }
    (rows, bad)
}

/// Merges `more` into `rows`, keeping the first row of each id. Returns how many were new.
pub fn merge_rows(rows: &mut Vec<CallRow>, more: impl IntoIterator<Item = CallRow>) -> usize {
    let mut seen: std::collections::HashSet<String> = rows.iter().map(|r| r.id.clone()).collect();
    let before = rows.len();
    for row in more {
        if seen.insert(row.id.clone()) {
            rows.push(row);
        }
    }
    rows.len() - before
}

/// The export's columns, by position in Microsoft's documentation, with the Graph field
/// each one fills. Headers are matched ignoring case, spaces and punctuation. Columns that
/// commcred reads itself are typed fields of [`CallRow`]; the others are kept in `extra`.
const COLUMNS: &[(&str, &str, Kept)] = &[
    ("UsageId", "id", Kept::Typed),
    ("Call ID", "callId", Kept::Typed),
    ("Conference ID", "conferenceId", Kept::Extra),
    ("User Location", "usageCountryCode", Kept::Extra),
    ("AAD ObjectId", "userId", Kept::Typed),
    ("UPN", "userPrincipalName", Kept::Typed),
    ("User Display Name", "userDisplayName", Kept::Typed),
    ("Caller ID", "callerNumber", Kept::Extra),
    ("Call Type", "callType", Kept::Typed),
    ("Number Type", "inventoryType", Kept::Extra),
    ("Domestic/International", "destinationContext", Kept::Extra),
    ("Destination Dialed", "destinationName", Kept::Extra),
    ("Destination Number", "calleeNumber", Kept::Extra),
    ("Start Time", "startDateTime", Kept::Typed),
    ("End Time", "endDateTime", Kept::Typed),
    ("Duration Seconds", "duration", Kept::Typed),
    ("Connection Fee", "connectionCharge", Kept::Typed),
    ("Charge", "charge", Kept::Typed),
    ("Currency", "currency", Kept::Typed),
    ("Capability", "licenseCapability", Kept::Typed),
];

#[derive(Clone, Copy, PartialEq, Eq)]
enum Kept {
    Typed,
    Extra,
}

/// Columns without which a row cannot be charged to the account.
const REQUIRED: &[&str] = &["UsageId", "Start Time", "Charge", "Currency"];

fn normalize(header: &str) -> String {
    header
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

/// What an import read.
#[derive(Debug, Clone, Default)]
pub struct UsageFile {
    /// Every call in the file (free ones included), in file order.
    pub rows: Vec<CallRow>,
    /// Earliest and latest call start in the file: the period it covers.
    pub first: Option<DateTime<Utc>>,
    pub last: Option<DateTime<Utc>>,
}

impl UsageFile {
    pub fn charged(&self) -> impl Iterator<Item = &CallRow> {
        self.rows.iter().filter(|r| r.is_charged())
    }
}

/// Reads a "PSTN and SMS usage" export. Every problem is collected (up to
/// [`MAX_CSV_PROBLEMS`]) with its file:line:column; any problem means nothing is returned.
pub fn read_usage_csv(path: &Path) -> Result<UsageFile, CreditsError> {
    let bytes = std::fs::read(path).map_err(|source| CreditsError::UsageUnreadable {
        path: path.to_path_buf(),
        source,
    })?;
    parse_usage_csv(path, &bytes)
}

pub fn parse_usage_csv(path: &Path, bytes: &[u8]) -> Result<UsageFile, CreditsError> {
    // Excel and the admin center write a UTF-8 byte-order mark; it is not part of the
    // first header, and positions are reported as a person sees the file (without it).
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let text: Arc<str> = match std::str::from_utf8(bytes) {
        Ok(t) => Arc::from(t),
        Err(e) => {
            let valid = String::from_utf8_lossy(&bytes[..e.valid_up_to()]).into_owned();
            let (line, column) = line_column(&valid, valid.len());
            return Err(CreditsError::UsageNotUtf8 {
                path: path.to_path_buf(),
                line,
                column,
            });
        }
    };
    let mut parser = CsvParser {
        path,
        text: text.clone(),
        source: crate::base::source_window::Windowed::new(path.display().to_string(), text.clone()),
        problems: Vec::new(),
        more: 0,
    };
    let file = parser.parse();
    if parser.problems.is_empty() && parser.more == 0 {
        Ok(file)
    } else {
        Err(CreditsError::UsageFile(Box::new(UsageFileErrors {
            file: path.to_path_buf(),
            problems: parser.problems,
            more: parser.more,
        })))
    }
}

struct CsvParser<'a> {
    path: &'a Path,
    text: Arc<str>,
    source: crate::base::source_window::Windowed<Arc<str>>,
    problems: Vec<CsvProblem>,
    more: usize,
}

/// Where a field sits in the text: byte offset and length.
#[derive(Clone, Copy)]
struct FieldAt {
    offset: usize,
    len: usize,
}

impl CsvParser<'_> {
    fn parse(&mut self) -> UsageFile {
        // The reader gets its own handle on the text, so problems can be recorded meanwhile.
        let text = self.text.clone();
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(text.as_bytes());
        let mut records = reader.records();
        let header = match records.next() {
            Some(Ok(h)) => h,
            Some(Err(e)) => {
                self.csv_error(&e);
                return UsageFile::default();
            }
            None => {
                self.problem(
                    Code::UsageMissingColumn.as_str(),
                    FieldAt { offset: 0, len: 0 },
                    "the file is empty: no header row".into(),
                    "empty file".into(),
                    expected_header_help(),
                );
                return UsageFile::default();
            }
        };
        if self.wrong_delimiter(&header) {
            return UsageFile::default();
        }
        let columns = self.map_header(&header);
        let Some(columns) = columns else {
            return UsageFile::default();
        };
        let width = header.len();

        let mut file = UsageFile::default();
        for record in records {
            let record = match record {
                Ok(r) => r,
                Err(e) => {
                    self.csv_error(&e);
                    continue;
                }
            };
            if record.iter().all(|f| f.trim().is_empty()) {
                continue;
            }
            // A row wider or narrower than the header has its values under the wrong
            // columns (an unquoted comma in a name shifts Charge into Currency): say that,
            // rather than what the shifted values look like.
            if record.len() != width {
                self.field_count_problem(&record, width);
                continue;
            }
            if let Some(row) = self.row(&record, &columns) {
                file.first = Some(
                    file.first
                        .map_or(row.start_date_time, |f| f.min(row.start_date_time)),
                );
                file.last = Some(
                    file.last
                        .map_or(row.start_date_time, |l| l.max(row.start_date_time)),
                );
                file.rows.push(row);
            }
        }
        file
    }

    /// Column index of each known field. `None` (with problems) when a required one is absent.
    fn map_header(&mut self, header: &csv::StringRecord) -> Option<HashMap<&'static str, usize>> {
        let mut found = HashMap::new();
        for (i, name) in header.iter().enumerate() {
            let key = normalize(name);
            if let Some((column, _, _)) = COLUMNS.iter().find(|(c, _, _)| normalize(c) == key) {
                found.entry(*column).or_insert(i);
            }
        }
        let missing: Vec<&str> = REQUIRED
            .iter()
            .copied()
            .filter(|c| !found.contains_key(c))
            .collect();
        if missing.is_empty() {
            return Some(found);
        }
        let at = self.field_at(header, 0);
        let first_line_len = self.text.lines().next().map_or(0, str::len);
        self.problem(
            Code::UsageMissingColumn.as_str(),
            FieldAt {
                offset: at.offset,
                len: first_line_len,
            },
            format!(
                "the header has no {} column{}: this is not the PSTN and SMS usage export",
                missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                if missing.len() == 1 { "" } else { "s" }
            ),
            "header row".into(),
            expected_header_help(),
        );
        None
    }

    // Long: maps each column of the Teams admin center export to a call row, one column after another.
    fn row(
        &mut self,
        record: &csv::StringRecord,
        columns: &HashMap<&'static str, usize>,
    ) -> Option<CallRow> {
        let before = self.problems.len() + self.more;
        let get = |name: &str| -> Option<(usize, &str)> {
            columns
                .get(name)
                .and_then(|&i| record.get(i).map(|v| (i, v.trim())))
        };
        let mut extra = Map::new();
        for (column, graph, _) in COLUMNS.iter().filter(|(_, _, k)| *k == Kept::Extra) {
            if let Some((_, v)) = get(column).filter(|(_, v)| !v.is_empty()) {
                extra.insert((*graph).to_string(), Value::String(v.to_string()));
            }
        }
        let text = |name: &str| {
            get(name)
                .map(|(_, v)| v.to_string())
                .filter(|v| !v.is_empty())
        };

        let id = match get("UsageId") {
            Some((_, v)) if !v.is_empty() => Some(v.to_string()),
            found => {
                self.field_problem(record, found.map(|(i, _)| i), "UsageId", "is empty".into(), "the UsageId identifies the call; rows without one cannot be imported twice safely");
                None
            }
        };
        let start = self.time(record, get("Start Time"), "Start Time", true);
        let end = self
            .time(record, get("End Time"), "End Time", false)
            .flatten();
        let duration = match get("Duration Seconds") {
            Some((i, v)) if !v.is_empty() => match v.parse::<i64>() {
                Ok(d) if d >= 0 => Some(d),
                _ => {
                    self.field_problem(
                        record,
                        Some(i),
                        "Duration Seconds",
                        format!("`{v}` is not a whole number of seconds"),
                        "Duration Seconds is a count of seconds, e.g. 154",
                    );
                    None
                }
            },
            _ => None,
        };
        let charge = self.amount(record, get("Charge"), "Charge");
        let fee = self.amount(record, get("Connection Fee"), "Connection Fee");
        let currency = text("Currency").map(|c| c.to_ascii_uppercase());
        let costs = charge.flatten().is_some_and(|a| a.0 != Decimal::ZERO)
            || fee.flatten().is_some_and(|a| a.0 != Decimal::ZERO);
        match (&currency, get("Currency")) {
            (Some(c), Some((i, _))) if crate::base::codes::currency_minor_units(c).is_none() => {
                self.field_problem(
                    record,
                    Some(i),
                    "Currency",
                    format!("`{c}` is not an ISO 4217 currency code"),
                    "Currency is a three-letter code such as USD, EUR or GBP",
                );
            }
            (None, found) if costs => {
                self.field_problem(
                    record,
                    found.map(|(i, _)| i),
                    "Currency",
                    "is empty but the call has a charge".into(),
                    "a charged call needs its currency to be counted against the right account",
                );
            }
            _ => {}
        }
        if self.problems.len() + self.more > before {
            return None;
        }
        Some(CallRow {
            id: id?,
            call_id: text("Call ID"),
            user_id: text("AAD ObjectId"),
            user_principal_name: text("UPN"),
            user_display_name: text("User Display Name"),
            start_date_time: start.flatten()?,
            end_date_time: end,
            duration,
            charge: charge.flatten(),
            connection_charge: fee.flatten(),
            currency,
            call_type: text("Call Type"),
            license_capability: text("Capability"),
            extra,
        })
    }

    /// `Some(None)` for an empty optional field, `None` after a problem.
    fn time(
        &mut self,
        record: &csv::StringRecord,
        field: Option<(usize, &str)>,
        name: &str,
        required: bool,
    ) -> Option<Option<DateTime<Utc>>> {
        match field {
            Some((i, v)) if !v.is_empty() => match parse_time(v) {
                Some(t) => Some(Some(t)),
                None => {
                    self.field_problem(
                        record,
                        Some(i),
                        name,
                        format!("`{v}` is not a date and time"),
                        "times are ISO 8601 in UTC, e.g. 2026-03-02T09:15:00Z",
                    );
                    None
                }
            },
            found if required => {
                self.field_problem(
                    record,
                    found.map(|(i, _)| i),
                    name,
                    "is empty".into(),
                    "every call has a start time",
                );
                None
            }
            _ => Some(None),
        }
    }

    /// An exact amount; an empty field is no charge (`Some(None)`).
    fn amount(
        &mut self,
        record: &csv::StringRecord,
        field: Option<(usize, &str)>,
        name: &str,
    ) -> Option<Option<Amount>> {
        match field {
            Some((i, v)) if !v.is_empty() => match Amount::parse(v) {
                Ok(a) => Some(Some(a)),
                Err(_) => {
                    self.field_problem(record, Some(i), name, format!("`{v}` is not a decimal amount"), "amounts are plain decimals with a dot, e.g. 0.24, without currency symbols or thousands separators");
                    None
                }
            },
            _ => Some(None),
        }
    }

    fn field_problem(
        &mut self,
        record: &csv::StringRecord,
        index: Option<usize>,
        column: &str,
        what: String,
        help: &str,
    ) {
        let (at, message) = match index {
            Some(i) if i < record.len() => (self.field_at(record, i), format!("{column} {what}")),
            Some(i) => {
                let start = self.field_at(record, 0);
                let line_len = self.text[start.offset..].lines().next().map_or(0, str::len);
                (
                    FieldAt {
                        offset: start.offset,
                        len: line_len,
                    },
                    format!(
                        "the row has {} fields, so it has no {column} (field {})",
                        record.len(),
                        i + 1
                    ),
                )
            }
            None => (self.field_at(record, 0), format!("{column} {what}")),
        };
        let label = if what.starts_with('`') {
            "here".to_string()
        } else {
            column.to_string()
        };
        self.problem(
            Code::UsageBadValue.as_str(),
            at,
            message,
            label,
            help.to_string(),
        );
    }

    fn field_count_problem(&mut self, record: &csv::StringRecord, width: usize) {
        let at = if record.len() > width {
            self.field_at(record, width)
        } else {
            let start = self.field_at(record, 0);
            FieldAt {
                offset: start.offset,
                len: 0,
            }
        };
        self.problem(
            Code::UsageFieldCount.as_str(),
            at,
            format!(
                "the row has {} fields but the header has {width}",
                record.len()
            ),
            if record.len() > width {
                "no column for this value".into()
            } else {
                "row".into()
            },
            "a value holding a comma must be in double quotes (\"Frank, Jr.\"); export the report \
             again from the Teams admin center and import the CSV unchanged"
                .into(),
        );
    }

    /// True (with a problem) when the header is one field separated by `;` or tabs: Excel
    /// in a locale with decimal commas saves "CSV" that way.
    fn wrong_delimiter(&mut self, header: &csv::StringRecord) -> bool {
        let Some(only) = header.get(0).filter(|_| header.len() == 1) else {
            return false;
        };
        let Some(delimiter) = [';', '\t'].into_iter().find(|d| only.contains(*d)) else {
            return false;
        };
        let at = self.field_at(header, 0);
        let first = only.find(delimiter).unwrap_or(0);
        self.problem(
            Code::UsageWrongDelimiter.as_str(),
            FieldAt {
                offset: at.offset + first,
                len: 1,
            },
            format!(
                "the header is separated by {}, not commas",
                if delimiter == ';' { "`;`" } else { "tabs" }
            ),
            "separator".into(),
            "import the CSV as the Teams admin center exports it; if Excel saved it, use Save As > \
             \"CSV UTF-8 (Comma delimited)\""
                .into(),
        );
        true
    }

    fn csv_error(&mut self, e: &csv::Error) {
        let offset = e
            .position()
            .map_or(0, |p| (p.byte() as usize).min(self.text.len()));
        self.problem(
            Code::UsageBadCsv.as_str(),
            FieldAt { offset, len: 0 },
            format!("not valid CSV: {e}"),
            "here".into(),
            "the export is RFC 4180 CSV; a field with a comma or quote must be in double quotes"
                .into(),
        );
    }

    fn problem(
        &mut self,
        code: &'static str,
        at: FieldAt,
        message: String,
        label: String,
        help: String,
    ) {
        if self.problems.len() >= MAX_CSV_PROBLEMS {
            self.more += 1;
            return;
        }
        let (line, column) = line_column(&self.text, at.offset);
        let span = crate::base::source_window::clamp_label(&self.text, (at.offset, at.len).into());
        self.problems.push(CsvProblem {
            code,
            file: self.path.to_path_buf(),
            line,
            column,
            message,
            label,
            help,
            span,
            source: self.source.clone(),
        });
    }

    /// Byte offset and raw length of field `index` of `record`, found by re-scanning the
    /// record's text (the csv crate reports where a record starts, not where fields are).
    fn field_at(&self, record: &csv::StringRecord, index: usize) -> FieldAt {
        let bytes = self.text.as_bytes();
        let mut start = record
            .position()
            .map_or(0, |p| (p.byte() as usize).min(self.text.len()));
        // With CRLF line ends the reported start can be the LF that ends the line before.
        while start < bytes.len() && (bytes[start] == b'\n' || bytes[start] == b'\r') {
            start += 1;
        }
        let mut field = 0;
        let mut field_start = start;
        let mut quoted = false;
        let mut i = start;
        while i < bytes.len() {
            let b = bytes[i];
            if b == b'"' {
                quoted = !quoted;
            } else if !quoted && (b == b',' || b == b'\n' || b == b'\r') {
                if field == index {
                    break;
                }
                if b != b',' {
                    break;
                }
                field += 1;
                field_start = i + 1;
            }
            i += 1;
        }
        FieldAt {
            offset: field_start,
            len: i - field_start,
        }
    }
}

fn expected_header_help() -> String {
    format!(
        "export \"PSTN and SMS usage\" from the Teams admin center; its header is: {}",
        COLUMNS
            .iter()
            .map(|(c, _, _)| *c)
            .collect::<Vec<_>>()
            .join(", ")
    )
}

/// 1-based line and character column of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(text.len());
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// ISO 8601 as the export writes it: `2026-03-02T09:15:00Z`, with fractions, an offset, a
/// space instead of `T`, or no offset at all (the export is UTC); a bare date is midnight
/// UTC (Graph's function parameters and `--fund AMOUNT@DATE` use those).
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    let text = text.trim();
    let with_t = match text.get(10..11) {
        Some(" ") => format!("{}T{}", &text[..10], &text[11..]),
        _ => text.to_string(),
    };
    let compact = with_t.replacen(" +", "+", 1).replacen(" -", "-", 1);
    if let Ok(t) = DateTime::parse_from_rfc3339(&compact) {
        return Some(t.with_timezone(&Utc));
    }
    for format in ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%dT%H:%M"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(&compact, format) {
            return Some(t.and_utc());
        }
    }
    chrono::NaiveDate::parse_from_str(&compact, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .map(|t| t.and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_in_every_export_spelling() {
        let want: DateTime<Utc> = "2026-03-02T09:15:00Z".parse().unwrap();
        for text in [
            "2026-03-02T09:15:00Z",
            "2026-03-02T09:15:00.0000000+00:00",
            "2026-03-02 09:15:00",
            "2026-03-02 09:15:00.0000000 +00:00",
            "2026-03-02T10:15:00+01:00",
        ] {
            assert_eq!(parse_time(text), Some(want), "{text}");
        }
        assert_eq!(parse_time("02/03/2026"), None);
        assert_eq!(
            parse_time("2026-03-02"),
            Some(want - chrono::Duration::minutes(555))
        );
    }

    #[test]
    fn json_numbers_are_read_from_their_text_or_refused() {
        let v: Value = serde_json::from_str("0.24").unwrap();
        assert_eq!(
            decimal_from_json(&v).unwrap().unwrap().0,
            Decimal::new(24, 2)
        );
        let v: Value = serde_json::from_str("\"0.10\"").unwrap();
        assert_eq!(decimal_from_json(&v).unwrap().unwrap().to_string(), "0.10");
        let v: Value = serde_json::from_str("12345678901234.567").unwrap();
        assert!(decimal_from_json(&v).is_err());
        assert_eq!(decimal_from_json(&Value::Null).unwrap(), None);
    }

    #[test]
    fn line_and_column_count_characters() {
        assert_eq!(line_column("ab\ncdé,f", 8), (2, 5));
        assert_eq!(line_column("abc", 0), (1, 1));
    }
}
