// The patient banner: who the result is about, from the demographics service, and when it was checked.
// What the demographics service did not record is said plainly, never left blank; a partial date of
// birth is shown as given and said to be partial; a restricted record and a date of death are shown.
import type { PatientView } from '../backend';

interface Props {
  patient: PatientView;
  checkedAt: string;
}

export function PatientBanner({ patient, checkedAt }: Props) {
  return (
    <section className="app-patient-banner" data-testid="patient-banner" aria-label="Patient">
      <p className="app-patient-banner__name">{patient.name}</p>
      <dl className="app-patient-banner__details">
        <div>
          <dt>Born</dt>
          <dd>
            {patient.date_of_birth}
            {patient.date_of_birth_note !== null && (
              <span className="app-patient-banner__note" data-testid="date-of-birth-note">
                {' '}
                ({patient.date_of_birth_note})
              </span>
            )}
          </dd>
        </div>
        {patient.date_of_death !== null && (
          <div data-testid="date-of-death">
            <dt>Died</dt>
            <dd>{patient.date_of_death}</dd>
          </div>
        )}
        <div>
          <dt>Gender</dt>
          <dd>{patient.gender}</dd>
        </div>
        <div>
          <dt>NHS number</dt>
          <dd>{patient.nhs_number}</dd>
        </div>
      </dl>
      {patient.restricted_notice !== null && (
        <p className="app-patient-banner__notice" data-testid="restricted-notice">
          <strong>{patient.restricted_notice}</strong>
        </p>
      )}
      {patient.not_recorded_warning !== null && (
        <p className="app-patient-banner__notice" data-testid="not-recorded-warning">
          <strong>{patient.not_recorded_warning}</strong>
        </p>
      )}
      <p className="app-patient-banner__checked">Checked at {checkedAt}</p>
    </section>
  );
}
