// The inactivity lock: fires once after the quiet time, is pushed back by activity, and survives
// settings that would break a naive timer.
import { act, render } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useInactivityLock } from './useInactivityLock';

function Probe({ active, minutes, onLock }: { active: boolean; minutes: number; onLock: () => void }) {
  useInactivityLock(active, minutes, onLock);
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
});
