//! The CSV upload for local authorities without FHIR tooling: one plan per row, validated row by
//! row with the same reject codes as the FHIR upload ([`crate::upload`]). Pure, like the rest of
//! this crate: the reference service reads `POST /la/csv` with it, and it is fuzzed on its own.
//!
//! Header (exactly these columns, in this order):
//! `nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone`
//!
//! - `plan_type`: `CPP`, `LAC` or `UCPP`, or the SNOMED CT code;
//! - dates `YYYY-MM-DD`; `end_date` may be empty (open plan);
//! - `social_worker_name` and `social_worker_phone`: both or neither.

use crate::upload::{UploadRejectCode, UploadRejection};
use cpis_domain::{LocalAuthority, NhsNumber, PlanType, ProtectionPlan, SocialWorker};
use time::Date;
use time::macros::format_description;

/// The required header.
pub const CSV_HEADER: [&str; 10] = [
    "nhs_number",
    "plan_type",
    "start_date",
    "end_date",
    "la_ods_code",
    "la_name",
    "office_hours_phone",
    "emergency_duty_phone",
    "social_worker_name",
    "social_worker_phone",
];

fn reject(code: UploadRejectCode, column: &'static str) -> UploadRejection {
    UploadRejection {
        code,
        element: Some(column),
    }
}

fn required(record: &csv::StringRecord, index: usize) -> Result<String, UploadRejection> {
    let value = record.get(index).map(str::trim).unwrap_or_default();
    if value.is_empty() {
        Err(reject(UploadRejectCode::InvalidRecord, CSV_HEADER[index]))
    } else {
        Ok(value.to_owned())
    }
}

fn optional(record: &csv::StringRecord, index: usize) -> Option<String> {
    record
        .get(index)
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .map(str::to_owned)
}

/// Exactly `YYYY-MM-DD`, as a FHIR `date` in the FHIR upload. (`time`'s `[year]` alone would
/// also take a signed year such as `-2025`, which the FHIR upload refuses.)
fn date(text: &str, column: &'static str) -> Result<Date, UploadRejection> {
    let shaped = text.len() == 10
        && text.bytes().enumerate().all(|(index, byte)| match index {
            4 | 7 => byte == b'-',
            _ => byte.is_ascii_digit(),
        });
    if !shaped {
        return Err(reject(UploadRejectCode::InvalidRecord, column));
    }
    Date::parse(text, format_description!("[year]-[month]-[day]"))
        .map_err(|_| reject(UploadRejectCode::InvalidRecord, column))
}

fn row(record: &csv::StringRecord) -> Result<(NhsNumber, ProtectionPlan), UploadRejection> {
    if record.len() != CSV_HEADER.len() {
        return Err(UploadRejection::new(UploadRejectCode::InvalidRecord));
    }
    let nhs_text = record.get(0).map(str::trim).unwrap_or_default();
    if nhs_text.len() != 10 || !nhs_text.bytes().all(|byte| byte.is_ascii_digit()) {
        return Err(reject(UploadRejectCode::InvalidNhsNumber, "nhs_number"));
    }
    let nhs_number = NhsNumber::parse(nhs_text)
        .map_err(|_| reject(UploadRejectCode::InvalidNhsNumber, "nhs_number"))?;
    let plan_text = required(record, 1)?;
    let plan_type = PlanType::from_short_code(&plan_text)
        .or_else(|| PlanType::from_snomed_code(&plan_text))
        .ok_or(reject(UploadRejectCode::UnknownPlanType, "plan_type"))?;
    let start = date(&required(record, 2)?, "start_date")?;
    let end = match optional(record, 3) {
        Some(text) => Some(date(&text, "end_date")?),
        None => None,
    };
    if end.is_some_and(|end| end < start) {
        return Err(reject(UploadRejectCode::DateOrder, "end_date"));
    }
    let social_worker = match (optional(record, 8), optional(record, 9)) {
        (Some(name), Some(phone)) => Some(SocialWorker { name, phone }),
        (None, None) => None,
        (Some(_), None) => {
            return Err(reject(
                UploadRejectCode::InvalidRecord,
                "social_worker_phone",
            ));
        }
        (None, Some(_)) => {
            return Err(reject(
                UploadRejectCode::InvalidRecord,
                "social_worker_name",
            ));
        }
    };
    Ok((
        nhs_number,
        ProtectionPlan {
            plan_type,
            start,
            end,
            local_authority: LocalAuthority {
                ods_code: required(record, 4)?,
                name: required(record, 5)?,
                office_hours_phone: required(record, 6)?,
                emergency_duty_phone: required(record, 7)?,
            },
            social_worker,
        },
    ))
}

/// Parse a CSV upload. The outer error (a safe message) is for a file that cannot be read as
/// this CSV at all; each row gets its own result.
#[allow(clippy::type_complexity)]
pub fn parse_csv_upload(
    body: &[u8],
) -> Result<Vec<Result<(NhsNumber, ProtectionPlan), UploadRejection>>, &'static str> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .flexible(true)
        .from_reader(body);
    let header = reader
        .headers()
        .map_err(|_| "The CSV header could not be read")?;
    let header: Vec<&str> = header.iter().map(str::trim).collect();
    if header != CSV_HEADER {
        return Err(
            "The CSV header must be exactly: nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone",
        );
    }
    Ok(reader
        .records()
        .map(|record| match record {
            Ok(record) => row(&record),
            Err(_) => Err(UploadRejection::new(UploadRejectCode::InvalidRecord)),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HEADER: &str = "nhs_number,plan_type,start_date,end_date,la_ods_code,la_name,office_hours_phone,emergency_duty_phone,social_worker_name,social_worker_phone\n";

    fn codes(body: &str) -> Vec<Option<UploadRejectCode>> {
        parse_csv_upload(format!("{HEADER}{body}").as_bytes())
            .expect("readable")
            .into_iter()
            .map(|result| result.err().map(|rejection| rejection.code))
            .collect()
    }

    #[test]
    fn rows_are_accepted_or_rejected_one_by_one() {
        let body = "\
9990000018,CPP,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,Sam Test,07700 900002
9990000019,CPP,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,XYZ,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,764841000000100,2025-01-01,2024-01-01,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,LAC,2025-13-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,LAC,2025-01-01,,ZL001,,01632 960001,07700 900001,,
9990000018,LAC,2025-01-01,,ZL001,Testshire Council,01632 960001,07700 900001,Sam Test,
9990000018,LAC
";
        assert_eq!(
            codes(body),
            [
                None,
                Some(UploadRejectCode::InvalidNhsNumber),
                Some(UploadRejectCode::UnknownPlanType),
                Some(UploadRejectCode::DateOrder),
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
            ]
        );
    }

    /// Found by the `la_upload_csv` fuzz target: a signed year (`-2025-04-01`) was accepted as
    /// the year -2025 by the CSV upload, while the FHIR upload refuses it.
    #[test]
    fn dates_with_a_sign_or_another_shape_are_refused() {
        let body = "\
9990000018,CPP,-2025-04-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,CPP,+2025-04-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,CPP,2025-04-01,+2026-01-01,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,CPP,2025-4-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
9990000018,CPP,2025-04-01,,ZL001,Testshire Council,01632 960001,07700 900001,,
";
        assert_eq!(
            codes(body),
            [
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
                Some(UploadRejectCode::InvalidRecord),
                None,
            ]
        );
    }

    #[test]
    fn a_wrong_header_refuses_the_whole_file() {
        assert!(parse_csv_upload(b"nhs,type\n9990000018,CPP\n").is_err());
        assert!(parse_csv_upload(b"").is_err());
    }
}
