//! CSV user lists (`users: - csv: sales.csv`): a header row naming the columns `upn`,
//! `usageLocation`, `profile`, `licenses` (names separated by `;`), `phoneNumber` and
//! `numberType`, then one user a row.
//!
//! Every cell keeps its byte span in the CSV text, so problems point at the CSV's own line
//! and column. The `csv` crate parses; [`field_spans`] finds where each field sits in the
//! text (the crate reports only where a record starts).

use std::ops::Range;

use miette::SourceSpan;

use super::checks::did_you_mean;
use super::diagnostics::{Code, Problem, SourceFile};

/// A non-empty, trimmed cell and where it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Cell {
    pub text: String,
    pub span: SourceSpan,
}

/// One data row. Absent cells (empty, or missing at the end of a short row) are `None`.
#[derive(Debug, Clone, PartialEq)]
pub struct CsvRow {
    pub upn: Option<Cell>,
    pub usage_location: Option<Cell>,
    pub profile: Option<Cell>,
    pub licenses: Option<Cell>,
    pub phone_number: Option<Cell>,
    pub number_type: Option<Cell>,
    /// The start of the row, for "this row has no upn".
    pub start: SourceSpan,
    /// 1-based line of the row in the CSV.
    pub line: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Column {
    Upn,
    UsageLocation,
    Profile,
    Licenses,
    PhoneNumber,
    NumberType,
}

const COLUMNS: [&str; 6] = [
    "upn",
    "usageLocation",
    "profile",
    "licenses",
    "phoneNumber",
    "numberType",
];

impl Column {
    /// Header names are matched without regard to case; `userPrincipalName` (Graph's name,
    /// found in exports) means `upn`.
    fn from_header(name: &str) -> Option<Column> {
        let lower = name.to_ascii_lowercase();
        match lower.as_str() {
            "upn" | "userprincipalname" => Some(Column::Upn),
            "usagelocation" => Some(Column::UsageLocation),
            "profile" => Some(Column::Profile),
            "licenses" => Some(Column::Licenses),
            // `telephoneNumber` is Graph's name for it (numberAssignment).
            "phonenumber" | "telephonenumber" => Some(Column::PhoneNumber),
            "numbertype" => Some(Column::NumberType),
            _ => None,
        }
    }
}

/// A header that is one field holding `;` or tabs: Excel in a locale with decimal commas
/// saves "CSV" with `;`, and every column then looks unknown. One problem saying so beats
/// two that do not.
fn wrong_delimiter(file: &SourceFile, header: &csv::StringRecord, start: usize) -> Option<Problem> {
    let only = match header.iter().collect::<Vec<_>>().as_slice() {
        [only] => *only,
        _ => return None,
    };
    let delimiter = [';', '\t'].into_iter().find(|d| only.contains(*d))?;
    let shown = if delimiter == ';' { "`;`" } else { "tabs" };
    let first = only.find(delimiter).unwrap_or(0);
    Some(
        Problem::new(
            Code::CsvWrongDelimiter,
            format!("the CSV header is separated by {shown}, not commas"),
        )
        .at(
            file,
            SourceSpan::new((start + first).into(), 1),
            "separator",
        )
        .help(
            "save the file with commas (Excel: Save As > \"CSV UTF-8 (Comma delimited)\"), e.g. \
             upn,usageLocation,profile,licenses; `;` separates names inside the licenses column",
        ),
    )
}

/// The CSV text without a leading UTF-8 byte-order mark (Excel writes one), or `None` when
/// the bytes are not UTF-8.
pub fn decode(bytes: &[u8]) -> Option<String> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    String::from_utf8(bytes.to_vec()).ok()
}

/// The rows of `file`, and every problem with its header or shape. Values (UPNs, profiles,
/// license names) are checked by the caller, which knows the profiles.
// Long: one pass over the CSV records, header then rows; the checks share the row position and the problems list.
pub fn parse(file: &SourceFile) -> (Vec<CsvRow>, Vec<Problem>) {
    let text = file.text();
    let mut problems = Vec::new();
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut records = reader.records();

    // The header: the first record.
    let header = match records.next() {
        Some(Ok(record)) => record,
        Some(Err(error)) => {
            problems.push(malformed(file, &error));
            return (Vec::new(), problems);
        }
        None => {
            problems.push(
                Problem::new(Code::CsvMissingUpnColumn, "the CSV file is empty")
                    .at(file, SourceSpan::new(0.into(), 0), "no header row")
                    .help("start with a header row: upn,usageLocation,profile,licenses"),
            );
            return (Vec::new(), problems);
        }
    };
    let header_start = record_start(text, &header);
    if let Some(problem) = wrong_delimiter(file, &header, header_start) {
        problems.push(problem);
        return (Vec::new(), problems);
    }
    let header_spans = field_spans(text, header_start);
    let mut columns: Vec<Option<Column>> = Vec::new();
    for (i, name) in header.iter().enumerate() {
        let span = span_of(&header_spans, i, header_start);
        let column = Column::from_header(name);
        match column {
            None => problems.push(
                Problem::new(
                    Code::CsvUnknownColumn,
                    format!("unknown column `{name}` in the CSV header"),
                )
                .at(file, span, "unknown column")
                .help(format!(
                    "{}; the columns are upn, usageLocation, profile, licenses, phoneNumber, numberType",
                    did_you_mean(name, &COLUMNS)
                )),
            ),
            Some(c) if columns.contains(&Some(c)) => problems.push(
                Problem::new(
                    Code::CsvDuplicateColumn,
                    format!("column `{name}` appears twice in the CSV header"),
                )
                .at(file, span, "second time")
                .help("remove one of the two columns"),
            ),
            Some(_) => {}
        }
        columns.push(column);
    }
    if !columns.contains(&Some(Column::Upn)) {
        let whole_header = SourceSpan::new(
            header_start.into(),
            text[header_start..]
                .find(['\r', '\n'])
                .unwrap_or(text.len() - header_start),
        );
        problems.push(
            Problem::new(
                Code::CsvMissingUpnColumn,
                "the CSV header has no `upn` column",
            )
            .at(file, whole_header, "header row without `upn`")
            .help("the first row must name the columns, e.g. upn,usageLocation,profile,licenses"),
        );
        return (Vec::new(), problems);
    }

    let mut rows = Vec::new();
    // Lines are counted as we go: asking `file.line_column` per row would rescan the file
    // from the top each time (quadratic on a 50,000-row CSV).
    let (mut line, mut counted_to) = (1, 0);
    for record in records {
        let record = match record {
            Ok(record) => record,
            Err(error) => {
                problems.push(malformed(file, &error));
                continue;
            }
        };
        let start = record_start(text, &record);
        let spans = field_spans(text, start);
        // From the offset, not the crate's line count, which skips blank lines.
        line += text.as_bytes()[counted_to..start]
            .iter()
            .filter(|b| **b == b'\n')
            .count();
        counted_to = start;
        let mut row = CsvRow {
            upn: None,
            usage_location: None,
            profile: None,
            licenses: None,
            phone_number: None,
            number_type: None,
            start: SourceSpan::new(start.into(), 0),
            line,
        };
        for (i, value) in record.iter().enumerate() {
            if value.is_empty() {
                continue;
            }
            let span = span_of(&spans, i, start);
            let Some(column) = columns.get(i) else {
                problems.push(
                    Problem::new(
                        Code::CsvMalformed,
                        format!(
                            "row has {} fields but the header has {}",
                            record.len(),
                            columns.len()
                        ),
                    )
                    .at(file, span, "no column for this value")
                    .help("put values that contain commas in double quotes (\"a,b\"), or add the column to the header; licenses are separated by `;`"),
                );
                break;
            };
            let cell = Some(Cell {
                text: value.to_string(),
                span,
            });
            match column {
                Some(Column::Upn) => row.upn = cell,
                Some(Column::UsageLocation) => row.usage_location = cell,
                Some(Column::Profile) => row.profile = cell,
                Some(Column::Licenses) => row.licenses = cell,
                Some(Column::PhoneNumber) => row.phone_number = cell,
                Some(Column::NumberType) => row.number_type = cell,
                None => {} // an unknown column, reported once in the header
            }
        }
        let blank = row.upn.is_none()
            && row.usage_location.is_none()
            && row.profile.is_none()
            && row.licenses.is_none()
            && row.phone_number.is_none()
            && row.number_type.is_none();
        if !blank {
            rows.push(row);
        }
    }
    (rows, problems)
}

/// The license names of a `licenses` cell (`a;b;c`), each with its own span.
pub fn split_licenses(file: &SourceFile, cell: &Cell) -> Vec<Cell> {
    let raw = &file.text()[cell.span.offset()..cell.span.offset() + cell.span.len()];
    let mut searched = 0;
    let mut names = Vec::new();
    for name in cell
        .text
        .split(';')
        .map(str::trim)
        .filter(|n| !n.is_empty())
    {
        // Find the name in the raw text (which may have quotes) to label it exactly.
        let span = match raw[searched..].find(name) {
            Some(i) => {
                searched += i + name.len();
                SourceSpan::new(
                    (cell.span.offset() + searched - name.len()).into(),
                    name.len(),
                )
            }
            None => cell.span,
        };
        names.push(Cell {
            text: name.to_string(),
            span,
        });
    }
    names
}

/// Where the record's first field begins. The crate's position is where it started reading,
/// which is before any blank lines it skipped.
fn record_start(text: &str, record: &csv::StringRecord) -> usize {
    let read_from = record.position().map_or(0, |p| p.byte() as usize);
    let skipped = text[read_from..]
        .bytes()
        .take_while(|b| matches!(b, b'\r' | b'\n'))
        .count();
    read_from + skipped
}

fn span_of(spans: &[Range<usize>], i: usize, fallback: usize) -> SourceSpan {
    match spans.get(i) {
        Some(r) => SourceSpan::new(r.start.into(), r.end - r.start),
        None => SourceSpan::new(fallback.into(), 0),
    }
}

fn malformed(file: &SourceFile, error: &csv::Error) -> Problem {
    let offset = error
        .position()
        .map_or(0, |p| p.byte() as usize)
        .min(file.text().len());
    Problem::new(Code::CsvMalformed, format!("malformed CSV: {error}"))
        .at(file, SourceSpan::new(offset.into(), 0), "here")
        .help("check the quoting of this row")
}

/// The byte ranges of the fields of the record starting at `start`, whitespace trimmed and
/// quotes included. Follows RFC 4180: a quoted field may hold commas, newlines and `""`.
pub fn field_spans(text: &str, start: usize) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut spans = Vec::new();
    let mut i = start;
    loop {
        let field_start = i;
        let mut in_quotes = false;
        while i < bytes.len() {
            match bytes[i] {
                b'"' if in_quotes && bytes.get(i + 1) == Some(&b'"') => i += 1,
                b'"' => in_quotes = !in_quotes,
                b',' | b'\n' | b'\r' if !in_quotes => break,
                _ => {}
            }
            i += 1;
        }
        let field = &text[field_start..i];
        let trimmed_start = field_start + (field.len() - field.trim_start().len());
        let trimmed_end = field_start + field.trim_end().len();
        spans.push(trimmed_start..trimmed_end.max(trimmed_start));
        if i < bytes.len() && bytes[i] == b',' {
            i += 1;
        } else {
            return spans;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn file(text: &str) -> SourceFile {
        SourceFile::new(Path::new("users.csv"), text.to_string())
    }

    #[test]
    fn spans_cover_each_field() {
        let text = "a, \"b,c\" ,\"d\"\"e\"\nx";
        let spans = field_spans(text, 0);
        let fields: Vec<&str> = spans.iter().map(|r| &text[r.clone()]).collect();
        assert_eq!(fields, ["a", "\"b,c\"", "\"d\"\"e\""]);
    }

    #[test]
    fn rows_keep_their_cells_and_lines() {
        let f = file(
            "UPN,usageLocation,licenses\n alice@contoso.com ,US,\n\nbob@contoso.com,,\"a;b\"\n",
        );
        let (rows, problems) = parse(&f);
        assert!(problems.is_empty(), "{problems:?}");
        assert_eq!(rows.len(), 2);
        let alice = rows[0].upn.as_ref().unwrap();
        assert_eq!(alice.text, "alice@contoso.com");
        assert_eq!(f.line_column(alice.span.offset()), (2, 2));
        assert_eq!(rows[1].line, 4);
        assert_eq!(rows[1].usage_location, None);
        let names = split_licenses(&f, rows[1].licenses.as_ref().unwrap());
        assert_eq!(names[1].text, "b");
        assert_eq!(f.line_column(names[1].span.offset()), (4, 21));
    }

    #[test]
    fn header_problems() {
        let (_, problems) = parse(&file("upn,usagelocaton,profile\n"));
        assert_eq!(problems[0].code(), Some(Code::CsvUnknownColumn));
        assert_eq!(problems[0].line_column(), Some((1, 5)));
        assert!(problems[0].help_text().unwrap().contains("usageLocation"));

        let (rows, problems) = parse(&file("email,profile\nx@y.com,p\n"));
        assert_eq!(problems[0].code(), Some(Code::CsvUnknownColumn));
        assert_eq!(problems[1].code(), Some(Code::CsvMissingUpnColumn));
        assert_eq!(problems[1].line_column(), Some((1, 1)));
        assert!(rows.is_empty());
    }

    #[test]
    fn extra_fields_are_malformed() {
        let (rows, problems) = parse(&file("upn\na@b.com,extra\n"));
        assert_eq!(rows.len(), 1);
        assert_eq!(problems[0].code(), Some(Code::CsvMalformed));
        assert_eq!(problems[0].line_column(), Some((2, 9)));
    }

    #[test]
    fn bom_is_dropped() {
        assert_eq!(decode(b"\xEF\xBB\xBFupn\n").unwrap(), "upn\n");
        assert!(decode(b"\xff").is_none());
    }
}
