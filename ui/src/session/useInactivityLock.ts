// Locks the app after a number of minutes without key, mouse or touch activity.
import { useEffect, useRef } from 'react';

/** The longest delay setTimeout honours; longer ones fire at once. */
const MAX_DELAY_MS = 2_147_483_647;

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
 * time when it fires, so a machine that slept still locks as soon as it wakes.
 */
export function useInactivityLock(active: boolean, minutes: number, onLock: () => void): void {
  const onLockRef = useRef(onLock);
  useEffect(() => {
    onLockRef.current = onLock;
  }, [onLock]);

  useEffect(() => {
    if (!active || !Number.isFinite(minutes) || minutes <= 0) return;
    const limit = minutes * 60_000;
    let last = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;

    const check = () => {
      const idle = Date.now() - last;
      if (idle >= limit) {
        timer = undefined;
        onLockRef.current();
        return;
      }
      timer = setTimeout(check, Math.min(limit - idle, MAX_DELAY_MS));
    };
    const activity = () => {
      last = Date.now();
    };

    for (const name of ACTIVITY_EVENTS) {
      window.addEventListener(name, activity, { capture: true, passive: true });
    }
    timer = setTimeout(check, Math.min(limit, MAX_DELAY_MS));
    return () => {
      if (timer !== undefined) clearTimeout(timer);
      for (const name of ACTIVITY_EVENTS) {
        window.removeEventListener(name, activity, { capture: true });
      }
    };
  }, [active, minutes]);
}
