//! Source snippets that fit on a screen. miette quotes the whole line around a problem; a
//! CSV row of a PSTN export or a generated YAML line can be hundreds of characters, and the
//! field that is wrong then disappears in the middle of a wrapped wall of text. For a long
//! line, the snippet is a window of [`WINDOW`] characters around the problem (without the
//! neighbouring lines); the header keeps the true line and column.

use miette::{MietteError, MietteSpanContents, NamedSource, SourceCode, SourceSpan, SpanContents};

/// Lines up to this many bytes are quoted whole; longer ones are cut to a window this wide.
pub const WINDOW: usize = 100;
/// How much of the line before the problem the window shows.
const LEAD: usize = 30;

/// A named source whose long lines are quoted as a window around the problem.
#[derive(Debug, Clone)]
pub struct Windowed<T: SourceCode + 'static>(pub NamedSource<T>);

impl<T: AsRef<str> + SourceCode + 'static> Windowed<T> {
    pub fn new(name: impl AsRef<str>, text: T) -> Windowed<T> {
        Windowed(NamedSource::new(name, text))
    }

    pub fn inner(&self) -> &T {
        self.0.inner()
    }
}

impl<T: AsRef<str> + SourceCode + 'static> SourceCode for Windowed<T> {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn SpanContents<'a> + 'a>, MietteError> {
        let text = self.0.inner().as_ref();
        let start = span.offset().min(text.len());
        let end = (start + span.len()).min(text.len());
        let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
        let line_end = text[start..]
            .find('\n')
            .map_or(text.len(), |i| start + i)
            .max(start);
        let line_end = if text[..line_end].ends_with('\r') && line_end > start {
            line_end - 1
        } else {
            line_end
        };
        // The span alone (the header's line and column), short lines, and spans over
        // several lines are quoted as miette always does.
        if (before == 0 && after == 0) || line_end - line_start <= WINDOW || end > line_end {
            return self.0.read_span(span, before, after);
        }
        let from = floor(text, start.saturating_sub(LEAD).max(line_start));
        let to = ceil(text, (from + WINDOW).max(end).min(line_end));
        let line = text[..line_start].matches('\n').count();
        let column = text[line_start..from].chars().count();
        Ok(Box::new(MietteSpanContents::new_named(
            self.0.name().to_string(),
            &text.as_bytes()[from..to],
            SourceSpan::from((from, to - from)),
            line,
            column,
            1,
        )))
    }
}

/// The longest label underlined: a longer value is underlined from its start.
pub const LONGEST_LABEL: usize = WINDOW - LEAD;

/// `span` cut to [`LONGEST_LABEL`] bytes (on a character boundary of `text`), so the
/// window around it shows where it starts.
pub fn clamp_label(text: &str, span: SourceSpan) -> SourceSpan {
    if span.len() <= LONGEST_LABEL || span.offset() >= text.len() {
        return span;
    }
    let end = floor(text, (span.offset() + LONGEST_LABEL).min(text.len()));
    SourceSpan::from((span.offset(), end - span.offset()))
}

/// A value quoted in a message, cut to 40 characters.
pub fn shorten(value: &str) -> std::borrow::Cow<'_, str> {
    match value.char_indices().nth(40) {
        None => value.into(),
        Some((i, _)) => format!("{}…", &value[..i]).into(),
    }
}

/// A message with every long value in it windowed: a `quoted` value longer than 120
/// characters (a UPN Entra ID allows has 113), or any other run without spaces longer than
/// 200, is cut to its first 40
/// characters and `…`, saying how long it was. Messages echo what the user wrote; a 10 MB
/// value must not become a 10 MB diagnostic. Linear in the message.
pub fn window_values(message: &str) -> std::borrow::Cow<'_, str> {
    // Fast path: nothing long enough to cut.
    if message.len() <= 120 {
        return message.into();
    }
    let mut out = String::with_capacity(message.len().min(4096));
    let mut changed = false;
    let mut rest = message;
    while !rest.is_empty() {
        if let Some(inner) = rest.strip_prefix('`')
            && let Some(close) = inner.find('`')
        {
            let value = &inner[..close];
            out.push('`');
            changed |= push_windowed(&mut out, value, 120);
            out.push('`');
            rest = &inner[close + 1..];
            continue;
        }
        let space = rest.starts_with(char::is_whitespace);
        // A run of spaces, or a word up to the next space or backtick.
        let end = rest
            .char_indices()
            .skip(1)
            .find(|&(_, c)| {
                if space {
                    !c.is_whitespace()
                } else {
                    c == '`' || c.is_whitespace()
                }
            })
            .map_or(rest.len(), |(i, _)| i);
        let (word, tail) = rest.split_at(end);
        if space {
            out.push_str(word);
        } else {
            // A word, or what follows a backtick that is never closed.
            changed |= push_windowed(&mut out, word, 200);
        }
        rest = tail;
    }
    if changed { out.into() } else { message.into() }
}

/// Pushes `value`, or its first 40 characters and how long it was when it has more than
/// `limit`. Returns whether it was cut.
fn push_windowed(out: &mut String, value: &str, limit: usize) -> bool {
    // More bytes than 4 x limit is certainly more characters than limit: no count needed.
    let long = value.len() > 4 * limit || value.chars().nth(limit).is_some();
    if !long {
        out.push_str(value);
        return false;
    }
    let cut = value.char_indices().nth(40).map_or(value.len(), |(i, _)| i);
    out.push_str(&value[..cut]);
    out.push_str(&format!("… ({} bytes)", value.len()));
    true
}

fn floor(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_values_in_messages_are_windowed() {
        let long = "a".repeat(10_000);
        let message = format!("`{long}@contoso.com` is not a user principal name: {long}");
        let windowed = window_values(&message);
        assert!(windowed.len() < 200, "{windowed}");
        assert!(windowed.starts_with(&format!("`{}… (10012 bytes)`", "a".repeat(40))));
        assert!(windowed.ends_with("… (10000 bytes)"), "{windowed}");
        let short = "user `alice@contoso.com` is listed twice";
        assert_eq!(window_values(short), short);
    }

    #[test]
    fn a_long_line_is_quoted_as_a_window_around_the_problem() {
        let long = format!("a,b\n{}BAD{}\nnext\n", "x".repeat(200), "y".repeat(200));
        let source = Windowed::new("f.csv", long.clone());
        let at = long.find("BAD").unwrap();
        let contents = source.read_span(&(at, 3).into(), 1, 1).unwrap();
        let data = std::str::from_utf8(contents.data()).unwrap();
        assert!(data.contains("BAD") && data.len() == WINDOW, "{data}");
        assert_eq!(contents.line(), 1);
        assert_eq!(contents.column(), 200 - LEAD);
        // The header's position is the problem's own.
        let exact = source.read_span(&(at, 3).into(), 0, 0).unwrap();
        assert_eq!((exact.line(), exact.column()), (1, 200));
        // Short lines keep their neighbours.
        let short = Windowed::new("g.csv", "a,b\nc,BAD\nd\n".to_string());
        let contents = short.read_span(&(6, 3).into(), 1, 1).unwrap();
        assert_eq!(
            std::str::from_utf8(contents.data()).unwrap(),
            "a,b\nc,BAD\nd\n"
        );
    }
}
