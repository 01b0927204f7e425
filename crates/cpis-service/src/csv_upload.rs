//! The CSV upload for local authorities without FHIR tooling. The parser lives in
//! [`cpis_fhir::upload_csv`] (pure, and fuzzed there without this crate's server stack); it is
//! re-exported here for the `POST /la/csv` handler.

pub use cpis_fhir::upload_csv::{CSV_HEADER, parse_csv_upload};
