//! The trust's own words in the `[trust]` table: its display name, its downtime procedure and
//! its safeguarding team's phone numbers, each checked here so that a bad value is refused with
//! the field named, never shown half-right to a clinician.

/// The longest organisation display name, in characters.
pub const ORGANISATION_NAME_MAX_CHARS: usize = 80;
/// The longest downtime procedure, in characters (newlines included).
pub const DOWNTIME_PROCEDURE_MAX_CHARS: usize = 600;
/// The most paragraphs (non-empty lines) a downtime procedure may have.
pub const DOWNTIME_PROCEDURE_MAX_PARAGRAPHS: usize = 8;
/// The longest "when the office-hours number is answered" text, in characters.
pub const HOURS_TEXT_MAX_CHARS: usize = 80;
/// The longest phone number as written, in characters.
const PHONE_MAX_CHARS: usize = 32;

/// The `[trust]` table, validated. Every field is optional.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TrustConfig {
    /// The organisation's display name (`trust.organisation_name`).
    pub organisation_name: Option<String>,
    /// The downtime procedure, one paragraph per non-empty line (`trust.downtime_procedure`).
    pub downtime_procedure: Vec<String>,
    /// The safeguarding team in office hours (`trust.safeguarding_in_hours_phone`).
    pub safeguarding_in_hours_phone: Option<PhoneNumber>,
    /// When that number is answered (`trust.safeguarding_in_hours_times`).
    pub safeguarding_in_hours_times: Option<String>,
    /// The safeguarding team or on-call out of hours (`trust.safeguarding_out_of_hours_phone`).
    pub safeguarding_out_of_hours_phone: Option<PhoneNumber>,
}

/// A UK telephone number as the trust wrote it, with the form a `tel:` link dials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PhoneNumber {
    display: String,
    tel: String,
}

impl PhoneNumber {
    /// Read a UK number as people write it: `0114 496 0000`, `+44 114 496 0000`,
    /// `+44 (0)114 496 0000`, `(0114) 4960000`, `0114-496-0000`, `01144960000`. It must be
    /// 0 and 9 or 10 more digits (or +44 and 9 or 10 digits) in a range that is in use
    /// (01, 02, 03, 05, 07, 08, 09). Three-digit short codes such as 999 are refused: these
    /// settings are the trust's own safeguarding team, and a short code there is a mistake.
    /// `Err` is the problem in words, for a field error.
    pub fn parse(text: &str) -> Result<PhoneNumber, String> {
        const EXAMPLE: &str = "such as 0114 496 0000 or +44 114 496 0000";
        let written = text.split_whitespace().collect::<Vec<_>>().join(" ");
        if written.is_empty() {
            return Err(format!("must be a UK phone number, {EXAMPLE}"));
        }
        if written.chars().count() > PHONE_MAX_CHARS {
            return Err(format!(
                "must be a UK phone number of at most {PHONE_MAX_CHARS} characters, {EXAMPLE}"
            ));
        }
        if let Some(bad) = written
            .chars()
            .find(|c| !(c.is_ascii_digit() || matches!(c, ' ' | '+' | '(' | ')' | '-')))
        {
            let shown = if bad.is_control() {
                "a control character".to_owned()
            } else {
                format!("`{bad}`")
            };
            return Err(format!(
                "may hold only digits, spaces, one leading +, brackets and hyphens, not {shown}"
            ));
        }
        if written.rfind('+').is_some_and(|at| at != 0) {
            return Err("may have a + only at the start".to_owned());
        }
        let bracketed = bracketed_digits(&written)?;
        let digits: String = written.chars().filter(char::is_ascii_digit).collect();
        let national = if written.starts_with('+') {
            let Some(rest) = digits.strip_prefix("44") else {
                return Err(format!(
                    "must be a UK number: an international number must start +44, {EXAMPLE}"
                ));
            };
            // `+44 (0)114 ...`: the bracketed 0 is the trunk prefix, dropped when dialling.
            let rest = if bracketed.as_deref() == Some("0") {
                rest.strip_prefix('0').unwrap_or(rest)
            } else {
                rest
            };
            if rest.starts_with('0') {
                return Err(format!(
                    "must not have a 0 after +44 (write +44 114 ..., not +44 0114 ...), {EXAMPLE}"
                ));
            }
            format!("0{rest}")
        } else {
            digits
        };
        let Some(significant) = national.strip_prefix('0') else {
            return Err(format!("must start with 0 or +44, {EXAMPLE}"));
        };
        if !(9..=10).contains(&significant.len()) {
            return Err(format!(
                "must have 10 or 11 digits starting with 0 (or +44 and 9 or 10 digits), {EXAMPLE}"
            ));
        }
        if !significant.starts_with(['1', '2', '3', '5', '7', '8', '9']) {
            return Err(format!(
                "is not in a UK number range that is in use (01, 02, 03, 05, 07, 08 or 09), {EXAMPLE}"
            ));
        }
        Ok(PhoneNumber {
            display: written,
            tel: format!("+44{significant}"),
        })
    }

    /// As the trust wrote it (spaces tidied): shown and copied.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// For a `tel:` link: `+44` and the digits, such as `+441144960000`.
    pub fn tel(&self) -> &str {
        &self.tel
    }
}

/// The digits inside the one pair of brackets, if any; brackets must pair, not nest, and hold
/// only digits.
fn bracketed_digits(written: &str) -> Result<Option<String>, String> {
    let opens = written.matches('(').count();
    let closes = written.matches(')').count();
    if opens == 0 && closes == 0 {
        return Ok(None);
    }
    let problem = || "may have one pair of brackets around digits only".to_owned();
    if opens != 1 || closes != 1 {
        return Err(problem());
    }
    let (Some(open), Some(close)) = (written.find('('), written.find(')')) else {
        return Err(problem());
    };
    if close < open {
        return Err(problem());
    }
    let inside = &written[open + 1..close];
    if inside.is_empty() || !inside.chars().all(|c| c.is_ascii_digit()) {
        return Err(problem());
    }
    Ok(Some(inside.to_owned()))
}

/// Characters never accepted in the trust's words: control characters, and the invisible
/// direction controls that could make text read differently from what it says.
fn is_forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// One line of text, 1..=`max_chars` characters after trimming, with no control characters.
pub fn single_line_text(text: &str, max_chars: usize) -> Result<String, String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("must not be empty".to_owned());
    }
    if trimmed.chars().any(is_forbidden) {
        return Err(
            "must be one line of text without control characters (no newlines or tabs)".to_owned(),
        );
    }
    if trimmed.chars().count() > max_chars {
        return Err(format!("must be at most {max_chars} characters"));
    }
    Ok(trimmed.to_owned())
}

/// The downtime procedure: at most [`DOWNTIME_PROCEDURE_MAX_CHARS`] characters in at most
/// [`DOWNTIME_PROCEDURE_MAX_PARAGRAPHS`] non-empty lines, no control characters but newlines.
/// Each non-empty line is one paragraph.
pub fn downtime_paragraphs(text: &str) -> Result<Vec<String>, String> {
    let text = text.replace("\r\n", "\n");
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err("must not be empty (leave it out instead)".to_owned());
    }
    if trimmed.chars().any(|c| c != '\n' && is_forbidden(c)) {
        return Err("must be text without control characters other than newlines".to_owned());
    }
    if trimmed.chars().count() > DOWNTIME_PROCEDURE_MAX_CHARS {
        return Err(format!(
            "must be at most {DOWNTIME_PROCEDURE_MAX_CHARS} characters: a few short lines"
        ));
    }
    let paragraphs: Vec<String> = trimmed
        .lines()
        .map(str::trim)
        .filter(|line| !line.is_empty())
        .map(str::to_owned)
        .collect();
    if paragraphs.len() > DOWNTIME_PROCEDURE_MAX_PARAGRAPHS {
        return Err(format!(
            "must have at most {DOWNTIME_PROCEDURE_MAX_PARAGRAPHS} lines (one paragraph each)"
        ));
    }
    Ok(paragraphs)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Ofcom's numbers for drama (0114 496 0xxx, 0161 496 0xxx, 020 7946 0xxx, 07700 900xxx,
    // 0808 157 0xxx): never a real line.

    #[test]
    fn uk_numbers_as_people_write_them_are_read() {
        let cases = [
            ("0114 496 0000", "+441144960000"),
            ("+44 114 496 0000", "+441144960000"),
            ("+44 (0)114 496 0000", "+441144960000"),
            ("(0114) 4960000", "+441144960000"),
            ("01144960000", "+441144960000"),
            ("0114-496-0000", "+441144960000"),
            ("  0161  496 0123 ", "+441614960123"),
            ("020 7946 0999", "+442079460999"),
            ("07700 900123", "+447700900123"),
            ("0808 157 0000", "+448081570000"),
        ];
        for (written, tel) in cases {
            let phone = PhoneNumber::parse(written).expect(written);
            assert_eq!(phone.tel(), tel, "{written}");
        }
        assert_eq!(
            PhoneNumber::parse("  0161  496 0123 ")
                .expect("valid")
                .display(),
            "0161 496 0123"
        );
    }

    #[test]
    fn numbers_that_are_not_uk_numbers_in_use_are_refused() {
        for bad in [
            "",
            "999",
            "111",
            "0114 496 00",
            "0114 496 00000 0",
            "+1 212 555 0100",
            "+44 0114 496 0000",
            "0044 114 496 0000",
            "0414 496 0000",
            "0614 496 0000",
            "114 496 0000",
            "0114 496 0000 ext 2",
            "0114+4960000",
            "((0114)) 4960000",
            "(0114 4960000",
            "0114) 4960000",
            "(a) 0114 4960000",
            "0114\t496 0000x",
            "0114 496 0000 0000 0000 0000 0000",
        ] {
            assert!(PhoneNumber::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn single_line_text_is_bounded_and_plain() {
        assert_eq!(
            single_line_text("  Monday to Friday, 9am to 5pm ", 80).expect("valid"),
            "Monday to Friday, 9am to 5pm"
        );
        assert!(single_line_text("", 80).is_err());
        assert!(single_line_text("   ", 80).is_err());
        assert!(single_line_text(&"a".repeat(81), 80).is_err());
        assert!(single_line_text(&"é".repeat(80), 80).is_ok());
        assert!(single_line_text("two\nlines", 80).is_err());
        assert!(single_line_text("bell\u{7}", 80).is_err());
        assert!(single_line_text("right\u{202E}to left", 80).is_err());
    }

    #[test]
    fn the_downtime_procedure_is_a_few_short_paragraphs() {
        let paragraphs = downtime_paragraphs(
            "\nUse the paper safeguarding form.\r\n\n  Phone the safeguarding team.  \n",
        )
        .expect("valid");
        assert_eq!(
            paragraphs,
            [
                "Use the paper safeguarding form.",
                "Phone the safeguarding team."
            ]
        );
        assert!(downtime_paragraphs(" \n ").is_err());
        assert!(downtime_paragraphs(&"a".repeat(601)).is_err());
        assert!(downtime_paragraphs(&"line\n".repeat(9)).is_err());
        assert!(downtime_paragraphs(&"line\n\n".repeat(8)).is_ok());
        assert!(downtime_paragraphs("tab\there").is_err());
    }
}
