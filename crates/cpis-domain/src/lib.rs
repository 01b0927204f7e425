//! CP-IS domain types: NHS numbers, protection plans, patients, lookup outcomes and who acted.
//!
//! Architecture invariant: this crate does no IO (no files, network, clock or logging) and
//! knows nothing of FHIR or IPC wire formats. Time comes in as an argument; the one exception is
//! [`uk_time::uk_today`], which reads the system clock (UTC) for callers that have no instant.
//! Every type that holds patient data has a redacting `Debug`.

mod actor;
mod display;
mod nhs_number;
mod outcome;
mod patient;
mod plan;
mod record;
mod status;
pub mod uk_time;

pub use actor::{
    ACTIVITY_LOCAL_AUTHORITY, ACTIVITY_SAFEGUARDING_REVIEW, ACTIVITY_VIEW_AND_NOTIFY,
    ACTIVITY_VIEW_SILENTLY, Actor, RoleRef, role_display_name,
};
pub use display::{
    display_date, display_date_time, display_date_time_with_zone, display_time,
    display_time_with_zone,
};
pub use nhs_number::{NhsNumber, NhsNumberError};
pub use outcome::{CouldNotCheckReason, LookupOutcome};
pub use patient::{Gender, PatientDemographics, age_in_whole_years};
pub use plan::{
    ADULT_AGE_YEARS, AccessRecord, LocalAuthority, PlanType, ProtectionPlan, SocialWorker,
    visible_plans,
};
pub use record::{BirthDate, LaContact, PlanRecord, TracedPatient, visible_records};
pub use status::{CareTeamStatus, PlanStatus};

/// Placeholder used in place of patient data in `Debug` output and logs.
pub const REDACTED: &str = "<redacted>";
