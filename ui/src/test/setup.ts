// Vitest setup: DOM matchers, a clean DOM and no leftover IPC mocks between tests.
import '@testing-library/jest-dom/vitest';
import { cleanup } from '@testing-library/react';
import { clearMocks } from '@tauri-apps/api/mocks';
import { afterEach, beforeEach } from 'vitest';

beforeEach(() => {
  document.body.classList.add('js-enabled', 'nhsuk-frontend-supported');
});

afterEach(() => {
  cleanup();
  clearMocks();
});
