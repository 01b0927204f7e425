// The timeline picture: one row per organisation, busiest first; unreadable times left out.
import { render, screen } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { axeViolations } from '../test/axe';
import { HISTORY, access } from '../test/fixtures';
import { recentViews } from './AccessHistory';
import { AccessTimeline, lanesOf } from './AccessTimeline';

describe('lanesOf', () => {
  it('groups views by organisation, busiest first, and skips times it cannot read', () => {
    const lanes = lanesOf([...HISTORY, access('', 'Not known', 'Westfield Hospital', 'RWW04')]);
    expect(lanes.map((lane) => [lane.name, lane.times.length])).toEqual([
      ['Northshire General Hospital', 2],
      ['Southvale Walk-in Centre', 1],
      ['Eastmoor Minor Injuries Unit', 1],
    ]);
  });
});

describe('AccessTimeline', () => {
  it('draws a dot per view with a text alternative, and passes axe', async () => {
    const { container } = render(<AccessTimeline history={HISTORY} />);
    const picture = screen.getByRole('img');
    expect(picture.querySelectorAll('circle')).toHaveLength(4);
    expect(picture.querySelectorAll('.app-timeline__lane')).toHaveLength(3);
    expect(picture).toHaveTextContent('Northshire General Hospital (2)');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('places a single view in the middle and labels one end only', () => {
    render(<AccessTimeline history={HISTORY.slice(0, 1)} />);
    const picture = screen.getByRole('img');
    expect(picture.querySelector('circle')?.getAttribute('cx')).toBe(String((316 + 886) / 2));
    expect(picture.querySelectorAll('.app-timeline__tick')).toHaveLength(1);
    expect(picture).toHaveAccessibleName(/1 view by 1 organisation/);
  });

  it('draws nothing when no time can be read', () => {
    const { container } = render(
      <AccessTimeline history={[access('not a time', 'Not known', 'Westfield Hospital', 'RWW04')]} />,
    );
    expect(container).toBeEmptyDOMElement();
  });
});

describe('recentViews', () => {
  it('counts the views and organisations in the 7 days up to the newest view', () => {
    expect(recentViews(HISTORY)).toEqual({ views: 3, organisations: 3 });
    expect(recentViews(HISTORY.slice(3))).toEqual({ views: 1, organisations: 1 });
    expect(recentViews([])).toEqual({ views: 0, organisations: 0 });
  });
});
