// The inactivity lock: fires once after the quiet time, is pushed back by activity, and survives
// settings that would break a naive timer.
import { act, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ACTIVITY_REPORT_MS, useInactivityLock } from './useInactivityLock';

function Probe({
  active,
  minutes,
  onLock,
  onActivity,
}: {
  active: boolean;
  minutes: number;
  onLock: () => void;
  onActivity?: () => void;
}) {
  useInactivityLock(active, minutes, onLock, onActivity);
  return null;
}

beforeEach(() => {
  vi.useFakeTimers();
});

afterEach(() => {
  vi.useRealTimers();
});

async function advance(ms: number) {
  await act(async () => {
    await vi.advanceTimersByTimeAsync(ms);
  });
}

describe('useInactivityLock', () => {
  it('locks once after the quiet time', async () => {
    const onLock = vi.fn();
    render(<Probe active minutes={1} onLock={onLock} />);
    await advance(59_000);
    expect(onLock).not.toHaveBeenCalled();
    await advance(1_000);
    expect(onLock).toHaveBeenCalledTimes(1);
    await advance(10 * 60_000);
    expect(onLock).toHaveBeenCalledTimes(1);
  });

  it('counts from the last key, mouse or touch activity', async () => {
    const onLock = vi.fn();
    render(<Probe active minutes={1} onLock={onLock} />);
    for (const type of ['keydown', 'mousemove', 'touchstart']) {
      await advance(50_000);
      window.dispatchEvent(new Event(type));
    }
    expect(onLock).not.toHaveBeenCalled();
    await advance(60_000);
    expect(onLock).toHaveBeenCalledTimes(1);
  });

  it('does nothing while inactive', async () => {
    const onLock = vi.fn();
    render(<Probe active={false} minutes={1} onLock={onLock} />);
    await advance(5 * 60_000);
    expect(onLock).not.toHaveBeenCalled();
  });

  it('does not spin when the lock time is longer than a timer can wait', async () => {
    const onLock = vi.fn();
    render(<Probe active minutes={4_294_967_295} onLock={onLock} />);
    await advance(60 * 60_000);
    expect(onLock).not.toHaveBeenCalled();
    expect(vi.getTimerCount()).toBe(1);
  });

  it('reports activity to Rust at once, then at most every 30 seconds, the last one always', async () => {
    const onActivity = vi.fn();
    render(<Probe active minutes={15} onLock={vi.fn()} onActivity={onActivity} />);
    await advance(5_000);
    expect(onActivity).not.toHaveBeenCalled();
    window.dispatchEvent(new Event('keydown'));
    expect(onActivity).toHaveBeenCalledTimes(1);
    // A burst of input inside the interval is one more report, at its end.
    for (let second = 1; second <= 10; second += 1) {
      await advance(1_000);
      window.dispatchEvent(new Event('mousemove'));
    }
    expect(onActivity).toHaveBeenCalledTimes(1);
    await advance(ACTIVITY_REPORT_MS - 10_000 - 1);
    expect(onActivity).toHaveBeenCalledTimes(1);
    await advance(1);
    expect(onActivity).toHaveBeenCalledTimes(2);
    // Quiet: nothing more, however long.
    await advance(10 * 60_000);
    expect(onActivity).toHaveBeenCalledTimes(2);
  });

  it('reports nothing for the timer itself, nor once the app is locked or signed out', async () => {
    const onActivity = vi.fn();
    const onLock = vi.fn();
    const { rerender } = render(
      <Probe active minutes={1} onLock={onLock} onActivity={onActivity} />,
    );
    await advance(60_000);
    expect(onLock).toHaveBeenCalledTimes(1);
    expect(onActivity).not.toHaveBeenCalled();
    // Input, then more within the interval: one report now, one pending...
    window.dispatchEvent(new Event('keydown'));
    window.dispatchEvent(new Event('keydown'));
    expect(onActivity).toHaveBeenCalledTimes(1);
    // ...which is dropped when the app stops being signed in (locked or signed out).
    rerender(<Probe active={false} minutes={1} onLock={onLock} onActivity={onActivity} />);
    await advance(ACTIVITY_REPORT_MS);
    window.dispatchEvent(new Event('keydown'));
    await advance(ACTIVITY_REPORT_MS);
    expect(onActivity).toHaveBeenCalledTimes(1);
  });
});
