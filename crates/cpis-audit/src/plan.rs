//! The plans a view found, as recorded with the view ([`RecordedPlan`]): the named nurse's
//! follow-up needs whom to chase without looking the child up again.

use cpis_domain::PlanType;

/// A plan a view found, recorded with the view so that the safeguarding named nurse knows
/// whom to chase without looking the child up again: the plan's type (when the answer gave
/// it) and the responsible local authority. Nothing else of the alert (no dates, phones,
/// social worker or patient details) is recorded. Local authority names are not personal data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedPlan {
    /// Which kind of plan; `None` when the answer did not say.
    pub plan_type: Option<PlanType>,
    /// The responsible local authority's name.
    pub local_authority: String,
    /// Its ODS code, when the answer gave one (never empty).
    pub local_authority_ods: Option<String>,
}

impl RecordedPlan {
    /// A plan found of `plan_type` under `local_authority`; an empty ODS code counts as none.
    pub fn new(
        plan_type: Option<PlanType>,
        local_authority: &str,
        local_authority_ods: Option<&str>,
    ) -> RecordedPlan {
        RecordedPlan {
            plan_type,
            local_authority: local_authority.to_owned(),
            local_authority_ods: local_authority_ods
                .filter(|ods| !ods.is_empty())
                .map(str::to_owned),
        }
    }

    /// The plan type's SNOMED CT code as stored, empty when not known.
    pub fn plan_type_code(&self) -> &'static str {
        self.plan_type.map_or("", PlanType::snomed_code)
    }
}
