// A valid answer that CP-IS holds no plan: calm, and clear about what it does not mean.
import type { LookupView } from '../backend';
import { PatientBanner } from '../components/PatientBanner';

type NoPlan = Extract<LookupView, { outcome: 'no_plan' }>;

export function NoPlanResult({ view }: { view: NoPlan }) {
  return (
    <div className="app-result app-result--no-plan" data-testid="result-no-plan">
      <PatientBanner patient={view.patient} checkedAt={view.checked_at} />
      <div className="nhsuk-card app-no-plan">
        <div className="nhsuk-card__content">
          <h2 className="nhsuk-heading-m">No plans recorded in CP-IS</h2>
          <p className="nhsuk-body">
            CP-IS has no child protection plan, looked after child or unborn child protection plan
            for this NHS number.
          </p>
          <p className="nhsuk-body nhsuk-u-margin-bottom-0">
            This does not mean there are no concerns. If you have concerns, follow your local
            safeguarding procedure.
          </p>
        </div>
      </div>
    </div>
  );
}
