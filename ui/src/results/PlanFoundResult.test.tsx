// The plan-found callout carries each plan's local authority numbers, so that whom to phone is on
// the first screen; the plan details below do not repeat them.
import { render, screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import type { LookupView } from '../backend';
import { axeViolations } from '../test/axe';
import { mockBackend } from '../test/ipc';
import { CPP, ENDED_LAC, TYPE_NOT_READ, phone, planFound } from '../test/fixtures';
import { PlanFoundResult } from './PlanFoundResult';

type PlanFound = Extract<LookupView, { outcome: 'plan_found' }>;

function renderResult(view: PlanFound) {
  mockBackend();
  return render(<PlanFoundResult view={view} lookupId={7} />);
}

function plansFound(plans: PlanFound['plans']): PlanFound {
  return planFound({ plans }).view as PlanFound;
}

describe('PlanFoundResult', () => {
  it("puts each plan's office-hours and emergency duty numbers in the callout", async () => {
    const withExtension = {
      ...ENDED_LAC,
      local_authority: {
        ...ENDED_LAC.local_authority,
        office_hours_phone: phone('020 7946 0000', 'tel:+442079460000'),
        emergency_duty_phone: phone('020 7946 0000', 'tel:+442079460000', '201'),
      },
    };
    const { container } = renderResult(plansFound([CPP, withExtension]));
    const callout = screen.getByTestId('plan-callout');
    expect(callout).not.toHaveTextContent('Their numbers are below');
    expect(within(callout).getByRole('list', { name: 'CP-IS has 2 records for this NHS number' })).toBeInTheDocument();
    expect(callout).toHaveTextContent("The numbers are from the local authority's CP-IS record.");
    const groups = within(callout).getAllByTestId('la-phones');
    expect(groups).toHaveLength(2);
    const [first, second] = groups as [HTMLElement, HTMLElement];
    expect(first).toHaveTextContent('Northshire County Council');
    expect(
      within(first).getAllByRole('link').map((link) => [link.textContent, link.getAttribute('href')]),
    ).toEqual([
      ['01632 960001', 'tel:+441632960001'],
      ['01632 960999', 'tel:+441632960999'],
    ]);
    expect(second).toHaveTextContent('Southvale Borough Council');
    expect(
      within(second).getAllByRole('link').map((link) => link.getAttribute('href')),
    ).toEqual(['tel:+442079460000', 'tel:+442079460000']);
    expect(within(second).getByTestId('phone-extension')).toHaveTextContent('extension 201');
    // A copy button for each number.
    expect(
      within(callout)
        .getAllByRole('button')
        .map((button) => button.textContent),
    ).toEqual([
      'Copy Northshire County Council office hours number',
      'Copy Northshire County Council emergency duty team number',
      'Copy Southvale Borough Council office hours number',
      'Copy Southvale Borough Council emergency duty team number',
    ]);
    // The details below do not repeat them: one link and one copy button per number on screen.
    for (const plan of screen.getAllByTestId('plan')) {
      expect(within(plan).queryByTestId('la-phones')).not.toBeInTheDocument();
      expect(plan).not.toHaveTextContent('01632 960001');
    }
    expect(screen.getAllByRole('link', { name: '01632 960001' })).toHaveLength(1);
    expect(await axeViolations(container)).toEqual([]);
  });

  it('says in the callout which number CP-IS did not give', () => {
    renderResult(plansFound([TYPE_NOT_READ]));
    const callout = screen.getByTestId('plan-callout');
    expect(within(callout).getByTestId('phone-not-given')).toHaveTextContent('Not given by CP-IS');
    expect(within(callout).getAllByRole('link')).toHaveLength(1);
  });
});
