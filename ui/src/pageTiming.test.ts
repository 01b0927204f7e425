import { afterEach, describe, expect, it } from 'vitest';
import {
  LOOKUP_IPC_MEASURE,
  LOOKUP_MEASURE,
  markLookupAnswered,
  markLookupStart,
  measureLookupRendered,
} from './pageTiming';

const nextFrame = () =>
  new Promise<void>((resolve) => {
    requestAnimationFrame(() => {
      resolve();
    });
  });

describe('lookup timing marks', () => {
  afterEach(() => {
    performance.clearMarks();
    performance.clearMeasures();
  });

  it('measures from the start mark to the frame after the result renders', async () => {
    markLookupStart();
    measureLookupRendered();
    await nextFrame();
    await nextFrame();
    const measures = performance.getEntriesByName(LOOKUP_MEASURE, 'measure');
    expect(measures).toHaveLength(1);
    expect(measures[0]?.duration).toBeGreaterThanOrEqual(0);
  });

  it('measures nothing without a start, and only once per start', async () => {
    measureLookupRendered();
    await nextFrame();
    expect(performance.getEntriesByName(LOOKUP_MEASURE, 'measure')).toHaveLength(0);
    markLookupStart();
    measureLookupRendered();
    await nextFrame();
    measureLookupRendered();
    await nextFrame();
    expect(performance.getEntriesByName(LOOKUP_MEASURE, 'measure')).toHaveLength(1);
  });

  it('measures the IPC answer from the same start', () => {
    markLookupStart();
    markLookupAnswered();
    expect(performance.getEntriesByName(LOOKUP_IPC_MEASURE, 'measure')).toHaveLength(1);
  });

  it('names no patient data', async () => {
    markLookupStart();
    measureLookupRendered();
    await nextFrame();
    const names = performance.getEntries().map((entry) => entry.name);
    for (const name of names) expect(name).not.toMatch(/\d/);
  });
});
