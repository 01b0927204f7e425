// A phone as Rust read it: a link only to the tel: URI Rust gave, the extension said in words and
// never dialled, and a number Rust could not read shown as given with Copy and no link.
import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { axeViolations } from '../test/axe';
import { phone } from '../test/fixtures';
import { PhoneNumber } from './PhoneNumber';

describe('PhoneNumber', () => {
  it('links to the number Rust read, with the extension as text', async () => {
    // Rust's view of "020 7946 0000 ext 201".
    const { container } = render(
      <PhoneNumber
        phone={phone('020 7946 0000', 'tel:+442079460000', '201')}
        what="emergency duty team number"
      />,
    );
    const link = screen.getByRole('link', { name: '020 7946 0000' });
    expect(link).toHaveAttribute('href', 'tel:+442079460000');
    expect(screen.getByTestId('phone-extension')).toHaveTextContent('extension 201');
    expect(link).not.toHaveTextContent('201');
    expect(container).toHaveTextContent('020 7946 0000 extension 201');
    expect(await axeViolations(container)).toEqual([]);
  });

  it('shows a number Rust could not read as given, with Copy and no link', async () => {
    const writeText = vi.fn(() => Promise.resolve());
    const { container } = render(
      <PhoneNumber phone={phone('ring the duty desk', null)} what="office hours number" />,
    );
    expect(screen.queryByRole('link')).not.toBeInTheDocument();
    expect(screen.getByTestId('phone-not-linked')).toHaveTextContent('ring the duty desk');
    Object.defineProperty(navigator, 'clipboard', { value: { writeText }, configurable: true });
    fireEvent.click(screen.getByRole('button', { name: 'Copy office hours number' }));
    await waitFor(() => {
      expect(writeText).toHaveBeenCalledWith('ring the duty desk');
    });
    expect(await axeViolations(container)).toEqual([]);
  });

  it('never makes a link of anything but a tel: URI of + and digits', () => {
    for (const tel of ['javascript:alert(1)', '+442079460000', 'tel:020 7946 0000', 'tel:+44;ext=2']) {
      const { unmount } = render(
        <PhoneNumber phone={phone('020 7946 0000', tel)} what="office hours number" />,
      );
      expect(screen.queryByRole('link')).not.toBeInTheDocument();
      unmount();
    }
  });
});
