// The backend module calls each Tauri command by its exact name with the exact argument keys.
import { describe, expect, it, vi } from 'vitest';
import { callsTo, ipcRejection, mockBackend } from '../test/ipc';
import {
  CHILD,
  COULD_NOT_CHECK,
  COULD_NOT_CHECK_REFUSED,
  DECEASED,
  INVALID_NUMBER,
  NOT_SET_UP,
  NO_PLAN,
  NOT_RECORDED,
  PARTIAL_BIRTH_DATE,
  PATIENT_NOT_FOUND,
  RESTRICTED,
  SIGNED_OUT,
  STATUS_OK,
  SUPERSEDED,
  TRUST_CONTACTS,
  TRUST_SETTINGS,
  TYPE_NOT_READ,
  UNBORN,
  planFound,
  uiSettingsView,
} from '../test/fixtures';
import { COMMANDS, IPC_ERROR_CODES } from './bindings';
import { review, saveReviewCsv } from './review';
import {
  cancelSignIn,
  ipcErrorMessage,
  isIpcError,
  isLookupResponse,
  isSetupProblem,
  isStatusView,
  isUiSettings,
  lock,
  lookup,
  onLocked,
  recordLaContact,
  reportActivity,
  sessionState,
  setupProblem,
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
      report_activity: () => null,
      lookup: () => NO_PLAN,
      record_la_contact: () => null,
      cancel_sign_in: () => null,
      review: () => ({ period: 'last24_hours', organisation_ods: 'RX1', rows: [], generated_at: 'now' }),
      save_review_csv: () => '/downloads/cpis-review.csv',
    });
    expect(await setupProblem()).toBeNull();
    await sessionState();
    await signIn();
    await signOut();
    await lock();
    expect(await reportActivity()).toBeNull();
    expect(await lookup('999 000 0018')).toEqual(NO_PLAN);
    expect(
      await recordLaContact({ lookup_id: 3, method: 'secure_email', contacted_at: null }),
    ).toBeNull();
    expect(await status()).toEqual(STATUS_OK);
    expect(await uiSettings()).toEqual(uiSettingsView());
    expect(await cancelSignIn()).toBeNull();
    await review('last24_hours');
    expect(await saveReviewCsv('last7_days')).toBe('/downloads/cpis-review.csv');
    expect(calls).toEqual([
      { command: 'setup_problem', args: {} },
      { command: 'session_state', args: {} },
      { command: 'sign_in', args: {} },
      { command: 'sign_out', args: {} },
      { command: 'lock', args: {} },
      { command: 'report_activity', args: {} },
      { command: 'lookup', args: { input: '999 000 0018' } },
      {
        command: 'record_la_contact',
        args: { request: { lookup_id: 3, method: 'secure_email', contacted_at: null } },
      },
      { command: 'status', args: {} },
      { command: 'ui_settings', args: {} },
      { command: 'cancel_sign_in', args: {} },
      { command: 'review', args: { period: 'last24_hours' } },
      { command: 'save_review_csv', args: { period: 'last7_days' } },
    ]);
    expect(callsTo(calls, 'lookup')).toHaveLength(1);
    // Every registered command is called by one of the functions above.
    expect([...new Set(calls.map((made) => made.command))].sort()).toEqual([...COMMANDS].sort());
  });

  it('announces a command refused as locked, whichever it was, and passes the error on', async () => {
    const heard = vi.fn();
    const stop = onLocked(heard);
    mockBackend({
      lookup: () => ipcRejection('locked', 'CP-IS Viewer locked because nobody used it for a while.'),
      sign_in: () => ipcRejection('sign_in_not_finished', 'Sign-in did not finish.'),
    });
    await expect(lookup('9990000018')).rejects.toMatchObject({ code: 'locked' });
    expect(heard).toHaveBeenCalledTimes(1);
    await expect(signIn()).rejects.toMatchObject({ code: 'sign_in_not_finished' });
    expect(heard).toHaveBeenCalledTimes(1);
    stop();
    await expect(lookup('9990000018')).rejects.toMatchObject({ code: 'locked' });
    expect(heard).toHaveBeenCalledTimes(1);
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
    expect(ipcErrorMessage({ code: 'unexpected', message: 'Safe words.' }, 'Fallback.')).toBe('Safe words.');
    expect(ipcErrorMessage(new Error('may hold 9990000018'), 'Fallback.')).toBe('Fallback.');
    expect(ipcErrorMessage('a string', 'Fallback.')).toBe('Fallback.');
    expect(ipcErrorMessage({ code: 'unexpected', message: '  ' }, 'Fallback.')).toBe('Fallback.');
  });

  it('accepts only the generated error codes', () => {
    for (const code of IPC_ERROR_CODES) {
      expect(isIpcError({ code, message: 'Safe words.' })).toBe(true);
    }
    expect(isIpcError({ code: 'made_up', message: 'may hold 9990000018' })).toBe(false);
    expect(ipcErrorMessage({ code: 'made_up', message: 'may hold 9990000018' }, 'Fallback.')).toBe(
      'Fallback.',
    );
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

  // A found record that lacks a detail must reach the screen: refusing it here would turn it
  // into "could not check" and hide whom to phone.
  it('accepts a record without type, start, ODS code or phones, and every banner Rust sends', () => {
    for (const response of [
      planFound({ plans: [TYPE_NOT_READ] }),
      planFound({
        plans: [
          {
            ...TYPE_NOT_READ,
            local_authority: { ...TYPE_NOT_READ.local_authority, office_hours_phone: null },
          },
        ],
      }),
      planFound({ patient: NOT_RECORDED }),
      planFound({ patient: PARTIAL_BIRTH_DATE }),
      planFound({ patient: RESTRICTED }),
      { ...NO_PLAN, view: { ...NO_PLAN.view, patient: DECEASED } },
      COULD_NOT_CHECK_REFUSED,
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
      { ...found, view: { ...found.view, patient: { ...CHILD, date_of_death: 22 } } },
      { ...found, view: { ...found.view, patient: { ...CHILD, restricted_notice: true } } },
      { ...found, view: { ...found.view, plans: [{ ...TYPE_NOT_READ, plan_name: null }] } },
      {
        ...found,
        view: {
          ...found.view,
          plans: [{ ...TYPE_NOT_READ, local_authority: { ...TYPE_NOT_READ.local_authority, name: null } }],
        },
      },
      { ...COULD_NOT_CHECK, view: { ...COULD_NOT_CHECK.view, support_reference: 42 } },
      { ...found, view: { ...found.view, plans: [{ ...UNBORN, local_authority: null }] } },
      // The status is Rust's code and words; the old bare string, or an unknown code, is refused.
      { ...found, view: { ...found.view, plans: [{ ...UNBORN, status: 'active' }] } },
      {
        ...found,
        view: { ...found.view, plans: [{ ...UNBORN, status: { code: 'maybe', text: 'Maybe' } }] },
      },
      {
        ...found,
        view: { ...found.view, plans: [{ ...UNBORN, status: { code: 'active', text: '' } }] },
      },
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

describe('isUiSettings', () => {
  it('accepts the settings as Rust sends them, with and without the trust\'s words', () => {
    for (const settings of [
      uiSettingsView(),
      TRUST_SETTINGS,
      uiSettingsView({ trust: { ...TRUST_CONTACTS, safeguarding_in_hours_times: null } }),
      uiSettingsView({
        trust: {
          ...TRUST_CONTACTS,
          safeguarding_in_hours: { display: '0114 496 0123', tel: 'tel:+441144960123', extension: '12' },
        },
      }),
      uiSettingsView({
        trust: { ...TRUST_CONTACTS, safeguarding_in_hours: { display: 'ask the desk', tel: null, extension: null } },
      }),
    ]) {
      expect(isUiSettings(settings)).toBe(true);
    }
  });

  it('refuses settings of the wrong shape, and any tel: that is not digits', () => {
    const trust = TRUST_CONTACTS;
    for (const settings of [
      null,
      { lock_minutes: 15 },
      { ...TRUST_SETTINGS, lock_minutes: '15' },
      { ...TRUST_SETTINGS, organisation_display_name: 7 },
      { ...TRUST_SETTINGS, trust: null },
      { ...TRUST_SETTINGS, trust: { ...trust, downtime_procedure: 'Use paper.' } },
      { ...TRUST_SETTINGS, trust: { ...trust, downtime_procedure: [3] } },
      { ...TRUST_SETTINGS, trust: { ...trust, safeguarding_in_hours: '0114 496 0123' } },
      { ...TRUST_SETTINGS, trust: { ...trust, safeguarding_in_hours: { display: '0114 496 0123' } } },
      {
        ...TRUST_SETTINGS,
        trust: { ...trust, safeguarding_out_of_hours: { display: '0114', tel: 'javascript:alert(1)' } },
      },
      { ...TRUST_SETTINGS, trust: { ...trust, safeguarding_out_of_hours: { display: '0114', tel: '0114 496' } } },
      // The old shape: digits without the tel: scheme.
      {
        ...TRUST_SETTINGS,
        trust: { ...trust, safeguarding_out_of_hours: { display: '0114', tel: '+441144960999', extension: null } },
      },
      {
        ...TRUST_SETTINGS,
        trust: { ...trust, safeguarding_out_of_hours: { display: ' ', tel: 'tel:+441144960999', extension: null } },
      },
      {
        ...TRUST_SETTINGS,
        trust: {
          ...trust,
          safeguarding_out_of_hours: { display: '0114', tel: 'tel:+441144960999;ext=2', extension: null },
        },
      },
      {
        ...TRUST_SETTINGS,
        trust: { ...trust, safeguarding_out_of_hours: { display: '0114', tel: null, extension: 'x2' } },
      },
      { ...TRUST_SETTINGS, trust: { ...trust, safeguarding_in_hours_times: false } },
    ]) {
      expect(isUiSettings(settings)).toBe(false);
    }
  });

  it('rejects settings of the wrong shape with an IpcError', async () => {
    mockBackend({ ui_settings: () => ({ lock_minutes: 15 }) });
    const error: unknown = await uiSettings().catch((caught: unknown) => caught);
    expect(isIpcError(error)).toBe(true);
  });
});

describe('isStatusView', () => {
  it('accepts the status with and without configuration files', () => {
    expect(isStatusView(STATUS_OK)).toBe(true);
    expect(isStatusView({ ...STATUS_OK, config_files: [] })).toBe(true);
    expect(isStatusView({ ...STATUS_OK, services_reachable: null })).toBe(true);
  });

  it('refuses a status of the wrong shape', () => {
    for (const view of [
      null,
      { ...STATUS_OK, config_files: undefined },
      { ...STATUS_OK, config_files: '/etc/cpis-viewer/config.toml' },
      { ...STATUS_OK, config_files: [null] },
      { ...STATUS_OK, version: 1 },
      { ...STATUS_OK, audit: null },
      { ...STATUS_OK, audit: { ...STATUS_OK.audit, waiting: '3' } },
    ]) {
      expect(isStatusView(view)).toBe(false);
    }
  });

  it('rejects a status of the wrong shape with an IpcError', async () => {
    mockBackend({ status: () => ({ ...STATUS_OK, config_files: null }) });
    const error: unknown = await status().catch((caught: unknown) => caught);
    expect(isIpcError(error)).toBe(true);
  });
});

describe('setupProblem', () => {
  it('passes on the problems and where the files go', async () => {
    mockBackend({ setup_problem: () => NOT_SET_UP });
    expect(await setupProblem()).toEqual(NOT_SET_UP);
  });

  it('accepts no problem, or problems without a user file', () => {
    expect(isSetupProblem(null)).toBe(true);
    expect(isSetupProblem({ ...NOT_SET_UP, user_file: null })).toBe(true);
  });

  it('refuses, and rejects with an IpcError, an answer of the wrong shape', async () => {
    for (const answer of [
      undefined,
      'not set up',
      { ...NOT_SET_UP, problems: 'missing' },
      { ...NOT_SET_UP, problems: [1] },
      { ...NOT_SET_UP, machine_file: null },
      { ...NOT_SET_UP, user_file: 3 },
    ]) {
      expect(isSetupProblem(answer)).toBe(false);
    }
    mockBackend({ setup_problem: () => ({ problems: null }) });
    const error: unknown = await setupProblem().catch((caught: unknown) => caught);
    expect(isIpcError(error)).toBe(true);
  });
});
