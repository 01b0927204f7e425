//! Plans and the local authorities' contact details (`plans`, `local_authorities`): a person's
//! plans for the CareTeam search, and an uploaded plan stored with its authority's details.

use cpis_domain::{LocalAuthority, NhsNumber, PlanType, ProtectionPlan, SocialWorker};
use sqlx::Row;
use sqlx::any::AnyRow;
use time::{Date, OffsetDateTime};

use crate::store::connection::Store;
use crate::store::values::{StoreError, date_text, parse_date, to_micros};

/// Whether an uploaded plan was new or replaced an existing one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpsertOutcome {
    /// Stored as a new plan.
    Created,
    /// Updated the plan with the same person, authority, type and start.
    Updated,
}

impl Store {
    /// A person's date of birth and all their stored plans (newest start first), in one query;
    /// `None` when the person is unknown.
    pub async fn person_plans(
        &self,
        nhs_number: &NhsNumber,
    ) -> Result<Option<(Date, Vec<ProtectionPlan>)>, StoreError> {
        let rows = sqlx::query(
            "SELECT p.date_of_birth, pl.plan_type, pl.start_date, pl.end_date, \
                    pl.social_worker_name, pl.social_worker_phone, \
                    la.ods_code, la.name, la.office_hours_phone, la.emergency_duty_phone \
             FROM people p \
             LEFT JOIN plans pl ON pl.nhs_number = p.nhs_number \
             LEFT JOIN local_authorities la ON la.ods_code = pl.la_ods_code \
             WHERE p.nhs_number = $1 \
             ORDER BY pl.start_date DESC, pl.plan_type",
        )
        .bind(nhs_number.as_str())
        .fetch_all(&self.pool)
        .await?;
        let Some(first) = rows.first() else {
            return Ok(None);
        };
        let date_of_birth = parse_date(&first.try_get::<String, _>(0)?, "date of birth")?;
        let mut plans = Vec::with_capacity(rows.len());
        for row in &rows {
            if let Some(plan) = plan_from_row(row)? {
                plans.push(plan);
            }
        }
        Ok(Some((date_of_birth, plans)))
    }

    /// Store one uploaded plan and its authority's contact details, all or nothing.
    pub async fn upsert_plan(
        &self,
        nhs_number: &NhsNumber,
        plan: &ProtectionPlan,
        now: OffsetDateTime,
    ) -> Result<UpsertOutcome, StoreError> {
        let authority = &plan.local_authority;
        let _writer = self.writer().await;
        let mut transaction = self.pool.begin().await?;
        // A write first, so SQLite takes the write lock (and waits for it) at once.
        sqlx::query(
            "INSERT INTO local_authorities (ods_code, name, office_hours_phone, emergency_duty_phone) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (ods_code) DO UPDATE SET name = excluded.name, \
             office_hours_phone = excluded.office_hours_phone, \
             emergency_duty_phone = excluded.emergency_duty_phone",
        )
        .bind(&authority.ods_code)
        .bind(&authority.name)
        .bind(&authority.office_hours_phone)
        .bind(&authority.emergency_duty_phone)
        .execute(&mut *transaction)
        .await?;
        let start = date_text(plan.start);
        let existing = sqlx::query(
            "SELECT id FROM plans WHERE nhs_number = $1 AND la_ods_code = $2 \
             AND plan_type = $3 AND start_date = $4",
        )
        .bind(nhs_number.as_str())
        .bind(&authority.ods_code)
        .bind(plan.plan_type.short_code())
        .bind(&start)
        .fetch_optional(&mut *transaction)
        .await?;
        let outcome = if existing.is_some() {
            UpsertOutcome::Updated
        } else {
            UpsertOutcome::Created
        };
        sqlx::query(
            "INSERT INTO plans (id, nhs_number, la_ods_code, plan_type, start_date, end_date, \
             social_worker_name, social_worker_phone, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) \
             ON CONFLICT (nhs_number, la_ods_code, plan_type, start_date) DO UPDATE SET \
             end_date = excluded.end_date, social_worker_name = excluded.social_worker_name, \
             social_worker_phone = excluded.social_worker_phone, updated_at = excluded.updated_at",
        )
        .bind(uuid::Uuid::new_v4().to_string())
        .bind(nhs_number.as_str())
        .bind(&authority.ods_code)
        .bind(plan.plan_type.short_code())
        .bind(&start)
        .bind(plan.end.map(date_text))
        .bind(
            plan.social_worker
                .as_ref()
                .map(|worker| worker.name.clone()),
        )
        .bind(
            plan.social_worker
                .as_ref()
                .map(|worker| worker.phone.clone()),
        )
        .bind(to_micros(now))
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(outcome)
    }
}

fn plan_from_row(row: &AnyRow) -> Result<Option<ProtectionPlan>, StoreError> {
    let Some(plan_type) = row.try_get::<Option<String>, _>(1)? else {
        return Ok(None);
    };
    let plan_type =
        PlanType::from_short_code(&plan_type).ok_or(StoreError::Corrupt("plan type"))?;
    let start = parse_date(&row.try_get::<String, _>(2)?, "plan start")?;
    let end = match row.try_get::<Option<String>, _>(3)? {
        Some(text) => Some(parse_date(&text, "plan end")?),
        None => None,
    };
    let social_worker = match (
        row.try_get::<Option<String>, _>(4)?,
        row.try_get::<Option<String>, _>(5)?,
    ) {
        (Some(name), Some(phone)) => Some(SocialWorker { name, phone }),
        _ => None,
    };
    Ok(Some(ProtectionPlan {
        plan_type,
        start,
        end,
        local_authority: LocalAuthority {
            ods_code: row.try_get(6)?,
            name: row.try_get(7)?,
            office_hours_phone: row.try_get(8)?,
            emergency_duty_phone: row.try_get(9)?,
        },
        social_worker,
    }))
}
