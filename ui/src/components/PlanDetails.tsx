// One plan: its dates and status, whom to phone and when, and the social worker when shared.
import { SummaryList, Tag } from 'nhsuk-react-components';
import type { PlanView } from '../backend';
import { PhoneNumber } from './PhoneNumber';

interface Props {
  plan: PlanView;
  index: number;
}

export function PlanStatusTag({ plan }: { plan: PlanView }) {
  return plan.status === 'active' ? (
    <Tag modifier="red">Active</Tag>
  ) : (
    <Tag modifier="grey">Ended</Tag>
  );
}

function Source() {
  return (
    <p className="nhsuk-body-s app-secondary-text nhsuk-u-margin-top-1 nhsuk-u-margin-bottom-0">
      From the local authority&apos;s CP-IS record
    </p>
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
      {plan.status === 'ended' && (
        <p className="nhsuk-body">
          This plan has ended. CP-IS still shows it for a time after it ends.
        </p>
      )}
      <SummaryList>
        <SummaryList.Row>
          <SummaryList.Key>Start date</SummaryList.Key>
          <SummaryList.Value>{plan.start}</SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>{unborn ? 'Due date' : 'End date'}</SummaryList.Key>
          <SummaryList.Value>{plan.end ?? 'No end date'}</SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>Local authority</SummaryList.Key>
          <SummaryList.Value>{la.name}</SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>Monday to Friday office hours</SummaryList.Key>
          <SummaryList.Value>
            <PhoneNumber number={la.office_hours_phone} what={`${la.name} office hours number`} />
            <Source />
          </SummaryList.Value>
        </SummaryList.Row>
        <SummaryList.Row>
          <SummaryList.Key>Out of hours: emergency duty team</SummaryList.Key>
          <SummaryList.Value>
            <PhoneNumber
              number={la.emergency_duty_phone}
              what={`${la.name} emergency duty team number`}
            />
            <Source />
          </SummaryList.Value>
        </SummaryList.Row>
        {plan.social_worker !== null && (
          <SummaryList.Row>
            <SummaryList.Key>Social worker</SummaryList.Key>
            <SummaryList.Value>
              <p className="nhsuk-body nhsuk-u-margin-bottom-1">{plan.social_worker.name}</p>
              <PhoneNumber number={plan.social_worker.phone} what="social worker's number" />
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
