// The patient banner: who the result is about, from the demographics service, and when it was checked.
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
          <dd>{patient.date_of_birth}</dd>
        </div>
        <div>
          <dt>Gender</dt>
          <dd>{patient.gender}</dd>
        </div>
        <div>
          <dt>NHS number</dt>
          <dd>{patient.nhs_number}</dd>
        </div>
      </dl>
      <p className="app-patient-banner__checked">Checked at {checkedAt}</p>
    </section>
  );
}
