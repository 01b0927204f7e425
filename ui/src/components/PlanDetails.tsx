// One plan: its dates and status, its local authority, and the social worker when shared; and the
// local authority's two numbers, which the plan-found callout shows for each plan so that they are
// on the first screen. What CP-IS did not give is said plainly ("Start date not given", "Not given
// by CP-IS"), never a blank or an empty link.
import { SummaryList, Tag } from 'nhsuk-react-components';
import type { PhoneView, PlanStatusCode, PlanView } from '../backend';
import { PhoneNumber } from './PhoneNumber';

interface Props {
  plan: PlanView;
  index: number;
}

/** Status codes the clinician must act on: the tag takes the alert colour. */
const ALERT_STATUSES: ReadonlySet<PlanStatusCode> = new Set<PlanStatusCode>([
  'active',
  'starts',
  'due_today',
  'due_passed',
]);

/** The plan's status in words decided in Rust ("Due date passed 7 days ago"); colour only adds. */
export function PlanStatusTag({ plan }: { plan: PlanView }) {
  return (
    <Tag modifier={ALERT_STATUSES.has(plan.status.code) ? 'red' : 'grey'} data-testid="plan-status">
      {plan.status.text}
    </Tag>
  );
}

/** What is shown for a date or number CP-IS did not give. */
export const NOT_GIVEN_BY_CPIS = 'Not given by CP-IS';
export const START_DATE_NOT_GIVEN = 'Start date not given';

/** A local authority's number, or words saying CP-IS did not give it. */
function LaPhone({ phone, what }: { phone: PhoneView | null; what: string }) {
  if (phone === null) {
    return <span data-testid="phone-not-given">{NOT_GIVEN_BY_CPIS}</span>;
  }
  return <PhoneNumber phone={phone} what={what} />;
}

/**
 * Whom to phone for one plan: the local authority, and its office-hours and emergency duty team
 * numbers from its CP-IS record, each to call or copy; side by side where there is room.
 */
export function LaPhones({ plan }: { plan: PlanView }) {
  const la = plan.local_authority;
  return (
    <dl className="app-la-phones" data-testid="la-phones">
      <div>
        <dt className="nhsuk-u-visually-hidden">Local authority</dt>
        <dd className="app-la-phones__authority">{la.name}</dd>
      </div>
      <div>
        <dt>Monday to Friday office hours</dt>
        <dd>
          <LaPhone phone={la.office_hours_phone} what={`${la.name} office hours number`} />
        </dd>
      </div>
      <div>
        <dt>Out of hours: emergency duty team</dt>
        <dd>
          <LaPhone phone={la.emergency_duty_phone} what={`${la.name} emergency duty team number`} />
        </dd>
      </div>
    </dl>
  );
}

export function PlanDetails({ plan, index }: Props) {
  const headingId = `plan-${String(index)}-heading`;
  const unborn = plan.plan_type === 'unborn_child_protection_plan';
  const la = plan.local_authority;
  return (
    <section className="app-plan" aria-labelledby={headingId} data-testid="plan">
      <h2 id={headingId} className="nhsuk-heading-m">
        {plan.plan_name} <PlanStatusTag plan={plan} />
      </h2>
      {unborn && (
        <div className="app-plan__maternity" data-testid="unborn-plan-note">
          <p className="nhsuk-body">
            This plan is about the pregnancy. It is held against the mother&apos;s NHS number.
          </p>
          <p className="nhsuk-body">
            Phone the local authority to tell them about this booking. Follow your maternity
            safeguarding procedure.
          </p>
        </div>
      )}
      {plan.plan_type === null && (
        <p className="nhsuk-body" data-testid="type-not-read-note">
          CP-IS did not say which kind of plan this is. Phone the local authority to find out.
        </p>
      )}
      {plan.status.code === 'ended' && (
        <p className="nhsuk-body">
          This plan has ended. CP-IS still shows it for a time after it ends.
        </p>
      )}
      {plan.status.code === 'due_passed' && (
        <p className="nhsuk-body" data-testid="due-date-passed-note">
          The due date has passed. The baby may not have been born yet: CP-IS shows this plan
          for 28 days after the due date.
        </p>
      )}
      <SummaryList>
        <SummaryList.Row>
          <SummaryList.Key>Start date</SummaryList.Key>
          <SummaryList.Value>{plan.start ?? START_DATE_NOT_GIVEN}</SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>{unborn ? 'Due date' : 'End date'}</SummaryList.Key>
          <SummaryList.Value>{plan.end ?? 'No end date'}</SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>Local authority</SummaryList.Key>
          <SummaryList.Value>{la.name}</SummaryList.Value>
        </SummaryList.Row>
        {la.ods_code !== null && la.ods_code.trim() !== '' && (
          <SummaryList.Row>
            <SummaryList.Key>Local authority ODS code</SummaryList.Key>
            <SummaryList.Value>{la.ods_code}</SummaryList.Value>
          </SummaryList.Row>
        )}
        {plan.social_worker !== null && (
          <SummaryList.Row>
            <SummaryList.Key>Social worker</SummaryList.Key>
            <SummaryList.Value>
              <p className="nhsuk-body nhsuk-u-margin-bottom-1">{plan.social_worker.name}</p>
              <LaPhone phone={plan.social_worker.phone} what="social worker's number" />
              <p className="nhsuk-body-s app-secondary-text nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-0">
                Shared by the local authority
              </p>
            </SummaryList.Value>
          </SummaryList.Row>
        )}
      </SummaryList>
    </section>
  );
}
