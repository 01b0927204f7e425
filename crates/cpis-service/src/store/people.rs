//! The demographics stand-in's table, `people`: a person by NHS number, whether one exists, and
//! how many there are.

use cpis_domain::{NhsNumber, PatientDemographics};
use sqlx::Row;

use crate::store::connection::Store;
use crate::store::values::{StoreError, parse_date};

/// A person as the demographics stand-in holds them.
pub type Person = PatientDemographics;

impl Store {
    /// A person by NHS number.
    pub async fn person(&self, nhs_number: &NhsNumber) -> Result<Option<Person>, StoreError> {
        let row = sqlx::query(
            "SELECT family_name, given_names, date_of_birth, gender FROM people WHERE nhs_number = $1",
        )
        .bind(nhs_number.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let given_names: String = row.try_get(1)?;
        let given_names: Vec<String> =
            serde_json::from_str(&given_names).map_err(|_| StoreError::Corrupt("given names"))?;
        let gender: String = row.try_get(3)?;
        Ok(Some(PatientDemographics {
            nhs_number: nhs_number.clone(),
            family_name: row.try_get(0)?,
            given_names,
            date_of_birth: parse_date(&row.try_get::<String, _>(2)?, "date of birth")?,
            gender: cpis_fhir::gender_from_code(&gender).ok_or(StoreError::Corrupt("gender"))?,
        }))
    }

    /// Whether the demographics stand-in knows this person.
    pub async fn person_exists(&self, nhs_number: &NhsNumber) -> Result<bool, StoreError> {
        Ok(sqlx::query("SELECT 1 FROM people WHERE nhs_number = $1")
            .bind(nhs_number.as_str())
            .fetch_optional(&self.pool)
            .await?
            .is_some())
    }

    /// How many people are stored.
    pub async fn count_people(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) FROM people")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?)
    }
}
