// User Timing marks for `cargo xtask bench`: how long from Enter to a rendered result. The
// names carry no patient data. The bench reads the `cpis-lookup` measures through WebDriver;
// nothing in the app reads them, and no IPC command exists for them.

export const LOOKUP_MEASURE = 'cpis-lookup';
/** From the same start to the IPC answer arriving in the page (before React renders it). */
export const LOOKUP_IPC_MEASURE = 'cpis-lookup-ipc';
const START = 'cpis-lookup-start';
const KEEP = 1000;

/** Mark that a lookup was asked for (Enter pressed or Check clicked). */
export function markLookupStart(): void {
  performance.clearMarks(START);
  performance.mark(START);
}

/** Measure from the last start to the IPC answer arriving. */
export function markLookupAnswered(): void {
  if (performance.getEntriesByName(START, 'mark').length === 0) return;
  performance.measure(LOOKUP_IPC_MEASURE, START);
  if (performance.getEntriesByName(LOOKUP_IPC_MEASURE, 'measure').length > KEEP) {
    performance.clearMeasures(LOOKUP_IPC_MEASURE);
  }
}

/** Measure from the last start to now, once the result is on screen (next frame). */
export function measureLookupRendered(): void {
  if (performance.getEntriesByName(START, 'mark').length === 0) return;
  requestAnimationFrame(() => {
    try {
      performance.measure(LOOKUP_MEASURE, START);
    } catch {
      // No start mark (cleared meanwhile): nothing to measure.
    }
    performance.clearMarks(START);
    if (performance.getEntriesByName(LOOKUP_MEASURE, 'measure').length > KEEP) {
      performance.clearMeasures(LOOKUP_MEASURE);
    }
  });
}
