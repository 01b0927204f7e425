// The app frame renders the lookup page with the NHS header.
import { render, screen } from '@testing-library/react';
import { mockIPC } from '@tauri-apps/api/mocks';
import { describe, expect, it } from 'vitest';
import { App } from './App';

describe('App', () => {
  it('renders the header, the lookup field and the version', async () => {
    mockIPC((command) => {
      if (command === 'app_info') return { version: '9.9.9' };
      return null;
    });
    render(<App />);
    expect(screen.getByRole('heading', { name: 'Check child protection information' })).toBeInTheDocument();
    expect(screen.getByLabelText(/NHS number/)).toHaveFocus();
    expect(await screen.findByText(/version 9\.9\.9/)).toBeInTheDocument();
  });
});
