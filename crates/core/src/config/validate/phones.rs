//! A user's `phoneNumber` and `numberType`, inline or in a CSV row: E.164 numbers (other
//! spellings are refused with the E.164 form suggested), Graph's number types, and each
//! number declared for one user only.

use miette::SourceSpan;

use super::super::checks::did_you_mean;
use super::super::diagnostics::{Code, Problem, SourceFile};
use super::super::model::{DesiredNumber, Origin};
use super::{Site, Walker};
use crate::base::phone::{NumberType, is_e164, normalise};

const NUMBER_TYPES: [&str; 3] = ["callingPlan", "directRouting", "operatorConnect"];

impl Walker<'_, '_> {
    /// Checks `text` as an E.164 number and that no other user declares it.
    pub(super) fn phone_number(
        &mut self,
        file: &SourceFile,
        span: SourceSpan,
        text: &str,
    ) -> Option<String> {
        if !is_e164(text) {
            let help = match normalise(text) {
                Some(e164) => format!(
                    "write it as `{e164}`: E.164 is `+`, the country code and the number, digits only (no spaces, dashes, brackets or `tel:`)"
                ),
                None => "write the number in E.164: `+`, the country code and the number, digits only, e.g. `+14255550100` (extensions are not part of a Teams user's number)".to_string(),
            };
            self.cx.report(
                Problem::new(
                    Code::InvalidPhoneNumber,
                    format!(
                        "`{}` is not an E.164 phone number",
                        crate::base::source_window::shorten(text)
                    ),
                )
                .at(file, span, "not E.164")
                .help(help),
            );
            return None;
        }
        if let Some(first) = self.seen_numbers.get(text) {
            let (line, column) = first.file.line_column(first.span.offset());
            let place = format!("{}:{line}:{column}", first.file.path().display());
            let mut problem = Problem::new(
                Code::DuplicatePhoneNumber,
                format!("phone number `{text}` is declared for two users"),
            )
            .at(file, span, "declared again here")
            .help(format!(
                "a number belongs to one user: it is first declared at {place}; give one of the two users another number"
            ));
            problem = if first.file.path() == file.path() {
                problem.also(first.span, "first declared here")
            } else {
                problem.with_related(Problem::note(
                    format!("`{text}` is first declared here"),
                    &first.file,
                    first.span,
                ))
            };
            self.cx.report(problem);
            return None;
        }
        self.seen_numbers.insert(
            text.to_string(),
            Site {
                file: file.clone(),
                span,
            },
        );
        Some(text.to_string())
    }

    /// Checks a `numberType` value: Graph's spelling exactly.
    pub(super) fn number_type(
        &mut self,
        file: &SourceFile,
        span: SourceSpan,
        text: &str,
    ) -> Option<NumberType> {
        if let Some(kind) = NumberType::parse(text) {
            return Some(kind);
        }
        let help = match NumberType::parse_any_case(text) {
            Some(kind) => format!("write `{kind}` (Graph's spelling)"),
            None => format!(
                "{}; the number types are callingPlan, directRouting and operatorConnect",
                did_you_mean(text, &NUMBER_TYPES)
            ),
        };
        self.cx.report(
            Problem::new(
                Code::InvalidNumberType,
                format!(
                    "unknown number type `{}`",
                    crate::base::source_window::shorten(text)
                ),
            )
            .at(file, span, "not a number type")
            .help(help),
        );
        None
    }

    /// `numberType` written without `phoneNumber`: a type says nothing without a number.
    pub(super) fn type_without_number(&mut self, file: &SourceFile, span: SourceSpan) {
        self.cx.report(
            Problem::new(
                Code::MissingKey,
                "`numberType` is given but `phoneNumber` is not",
            )
            .at(file, span, "type of which number?")
            .help("add `phoneNumber: +14255550100` (E.164) to the user, or remove `numberType`"),
        );
    }
}

/// The declared number, once both halves are checked.
pub(super) fn desired_number(
    number: Option<String>,
    number_type: Option<NumberType>,
    origin: Origin,
) -> Option<Box<DesiredNumber>> {
    number.map(|number| {
        Box::new(DesiredNumber {
            number,
            number_type,
            origin,
        })
    })
}
