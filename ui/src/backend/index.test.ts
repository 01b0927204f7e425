// The backend module calls each Tauri command by its exact name with the exact argument keys.
import { describe, expect, it } from 'vitest';
import { callsTo, ipcRejection, mockBackend } from '../test/ipc';
import {
  CHILD,
  COULD_NOT_CHECK,
  INVALID_NUMBER,
  NO_PLAN,
  PATIENT_NOT_FOUND,
  SIGNED_OUT,
  STATUS_OK,
  SUPERSEDED,
  UNBORN,
  planFound,
} from '../test/fixtures';
import {
  appInfo,
  checkNhsNumber,
  ipcErrorMessage,
  isIpcError,
  isLookupResponse,
  lock,
  lookup,
  recordLaContact,
  sessionState,
  signIn,
  signOut,
  status,
  uiSettings,
} from '.';

describe('backend', () => {
  it('uses the command names and argument keys Rust registers', async () => {
    const calls = mockBackend({
      sign_in: () => SIGNED_OUT,
      sign_out: () => SIGNED_OUT,
      lock: () => ({ state: 'locked' }),
      lookup: () => NO_PLAN,
      record_la_contact: () => null,
      check_nhs_number: () => ({ status: 'valid', formatted: '999 000 0018' }),
    });
    await sessionState();
    await signIn();
    await signOut();
    await lock();
    expect(await lookup('999 000 0018')).toEqual(NO_PLAN);
    expect(
      await recordLaContact({ lookup_id: 3, method: 'secure_email', contacted_at: null }),
    ).toBeNull();
    expect(await status()).toEqual(STATUS_OK);
    expect(await uiSettings()).toEqual({ lock_minutes: 15 });
    await checkNhsNumber('9990000018');
    expect(await appInfo()).toEqual({ version: '9.9.9' });
    expect(calls).toEqual([
      { command: 'session_state', args: {} },
      { command: 'sign_in', args: {} },
      { command: 'sign_out', args: {} },
      { command: 'lock', args: {} },
      { command: 'lookup', args: { input: '999 000 0018' } },
      {
        command: 'record_la_contact',
        args: { request: { lookup_id: 3, method: 'secure_email', contacted_at: null } },
      },
      { command: 'status', args: {} },
      { command: 'ui_settings', args: {} },
      { command: 'check_nhs_number', args: { input: '9990000018' } },
      { command: 'app_info', args: {} },
    ]);
    expect(callsTo(calls, 'lookup')).toHaveLength(1);
  });

  it('passes on the IpcError a command rejects with', async () => {
    mockBackend({ sign_in: () => ipcRejection('sign_in_not_finished', 'Sign-in did not finish.') });
    await expect(signIn()).rejects.toEqual({
      code: 'sign_in_not_finished',
      message: 'Sign-in did not finish.',
    });
  });

  it('rejects a lookup answer of the wrong shape with an IpcError', async () => {
    mockBackend({ lookup: () => ({ lookup_id: 1, view: { outcome: 'maybe' }, audit_warning: null }) });
    const error: unknown = await lookup('9990000018').catch((caught: unknown) => caught);
    expect(isIpcError(error)).toBe(true);
    expect(ipcErrorMessage(error, 'fallback')).toBe('The app received an answer it could not read.');
  });

  it('only ever shows the message of an IpcError', () => {
    expect(ipcErrorMessage({ code: 'x', message: 'Safe words.' }, 'Fallback.')).toBe('Safe words.');
    expect(ipcErrorMessage(new Error('may hold 9990000018'), 'Fallback.')).toBe('Fallback.');
    expect(ipcErrorMessage('a string', 'Fallback.')).toBe('Fallback.');
    expect(ipcErrorMessage({ code: 'x', message: '  ' }, 'Fallback.')).toBe('Fallback.');
  });
});

describe('isLookupResponse', () => {
  it('accepts every outcome as Rust sends it', () => {
    for (const response of [
      planFound(),
      planFound({ plans: [UNBORN], access_history: [], access_history_unavailable: 'Timed out.' }),
      NO_PLAN,
      COULD_NOT_CHECK,
      PATIENT_NOT_FOUND,
      INVALID_NUMBER,
      SUPERSEDED,
      { ...NO_PLAN, audit_warning: 'Not audited.' },
    ]) {
      expect(isLookupResponse(response)).toBe(true);
    }
  });

  it('refuses answers missing what the page would show', () => {
    const found = planFound();
    for (const response of [
      null,
      'plan_found',
      { ...found, lookup_id: '7' },
      { ...found, audit_warning: 3 },
      { ...found, view: { ...found.view, outcome: 'maybe' } },
      { ...found, view: { ...found.view, plans: [] } },
      { ...found, view: { ...found.view, patient: { ...CHILD, name: null } } },
      { ...found, view: { ...found.view, plans: [{ ...UNBORN, local_authority: null }] } },
      { ...found, view: { ...found.view, access_history: undefined } },
      { ...NO_PLAN, view: { outcome: 'no_plan', checked_at: 'now' } },
      { ...COULD_NOT_CHECK, view: { outcome: 'could_not_check', reason_code: 'timeout' } },
      { ...PATIENT_NOT_FOUND, view: { outcome: 'patient_not_found' } },
      { ...INVALID_NUMBER, view: { outcome: 'invalid_nhs_number', code: 'empty' } },
    ]) {
      expect(isLookupResponse(response)).toBe(false);
    }
  });
});
