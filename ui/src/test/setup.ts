// Vitest setup: DOM matchers, a clean DOM and no leftover IPC mocks between tests.
import '@testing-library/jest-dom/vitest';
import { cleanup, configure } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach, vi } from 'vitest';

// The machine may be busy (builds run beside the tests): give findBy and waitFor time.
configure({ asyncUtilTimeout: 5000 });

beforeEach(() => {
  document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
});

afterEach(() => {
  cleanup();
  clearMocks();
  // A test that failed half way must not leave fake timers to the next.
  vi.useRealTimers();
});
