// Locks the app after a number of minutes without key, mouse or touch activity, and reports the
// activity to Rust, whose own inactivity lock (the one that survives a restart, a crash or a
// reload) must not lock a session in use.
import { useEffect, useRef } from 'react';

/** The longest delay setTimeout honours; longer ones fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

/**
 * Activity is reported to Rust at most this often: at once when the last report is this old,
 * else once at the end of the interval. Rust so hears of the last activity within this time,
 * well inside the shortest lock (one minute), so it never locks before this timer would.
 */
export const ACTIVITY_REPORT_MS = 30_000;

const ACTIVITY_EVENTS = [
  'keydown',
  'mousedown',
  'mousemove',
  'pointerdown',
  'touchstart',
  'wheel',
] as const;

/**
 * Call `onLock` once `minutes` pass with no activity while `active`. The timer checks the real
 * time when it fires, so a machine that slept still locks as soon as it wakes. While `active`,
 * `onActivity` is called for activity, at most once every {@link ACTIVITY_REPORT_MS} (the last
 * activity of an interval is always reported); never for the timer itself, and never after
 * `active` ends.
 */
export function useInactivityLock(
  active: boolean,
  minutes: number,
  onLock: () => void,
  onActivity?: () => void,
): void {
  const onLockRef = useRef(onLock);
  const onActivityRef = useRef(onActivity);
  useEffect(() => {
    onLockRef.current = onLock;
    onActivityRef.current = onActivity;
  }, [onLock, onActivity]);

  useEffect(() => {
    if (!active || !Number.isFinite(minutes) || minutes <= 0) return;
    const limit = minutes * 60_000;
    let last = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let lastReport = Number.NEGATIVE_INFINITY;
    let trailingReport: ReturnType<typeof setTimeout> | undefined;

    const check = () => {
      const idle = Date.now() - last;
      if (idle >= limit) {
        timer = undefined;
        onLockRef.current();
        return;
      }
      timer = setTimeout(check, Math.min(limit - idle, MAX_DELAY_MS));
    };
    const report = () => {
      lastReport = Date.now();
      onActivityRef.current?.();
    };
    const activity = () => {
      last = Date.now();
      if (trailingReport !== undefined) return;
      const sinceReport = last - lastReport;
      if (sinceReport >= ACTIVITY_REPORT_MS) {
        report();
        return;
      }
      trailingReport = setTimeout(() => {
        trailingReport = undefined;
        report();
      }, ACTIVITY_REPORT_MS - sinceReport);
    };

    for (const name of ACTIVITY_EVENTS) {
      window.addEventListener(name, activity, { capture: true, passive: true });
    }
    timer = setTimeout(check, Math.min(limit, MAX_DELAY_MS));
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      if (trailingReport !== undefined) clearTimeout(trailingReport);
      for (const name of ACTIVITY_EVENTS) {
        window.removeEventListener(name, activity, { capture: true });
      }
    };
  }, [active, minutes]);
}
