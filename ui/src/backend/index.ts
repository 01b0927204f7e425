// The only module that calls Tauri's invoke. Every call is typed with the generated bindings.
// A rejected promise carries an IpcError; `ipcErrorMessage` turns anything into safe words.
import { invoke } from '@tauri-apps/api/core';
import type {
  AppInfo,
  IpcError,
  LaContactRequest,
  LookupResponse,
  NhsNumberCheck,
  SessionView,
  StatusView,
  UiSettings,
} from './bindings';

export type {
  AccessView,
  AppInfo,
  AuditStatusView,
  ContactMethod,
  IpcError,
  LaContactRequest,
  LocalAuthorityView,
  LookupResponse,
  LookupView,
  NhsNumberCheck,
  NhsNumberErrorCode,
  PatientView,
  PlanStatus,
  PlanTypeCode,
  PlanView,
  SessionView,
  SocialWorkerView,
  StatusView,
  UiSettings,
  UserView,
} from './bindings';

/** An IpcError raised on this side of the boundary, such as for an answer of the wrong shape. */
export class BackendError extends Error implements IpcError {
  readonly code: string;

  constructor(code: string, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/** Whether a rejection value is the IpcError that our commands reject with. */
export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return typeof record.code === 'string' && typeof record.message === 'string';
}

/**
 * The message to show for a failed call. Only an IpcError's message is shown: it is a fixed,
 * safe text. Anything else may hold patient data, so it is replaced with `fallback`.
 */
export function ipcErrorMessage(error: unknown, fallback: string): string {
  return isIpcError(error) && error.message.trim() !== '' ? error.message : fallback;
}

/** Whether anyone is signed in, or the app is locked. */
export function sessionState(): Promise<SessionView> {
  return invoke<SessionView>('session_state');
}

/** Sign in through the system browser; resolves when sign-in finishes (it may take minutes). */
export function signIn(): Promise<SessionView> {
  return invoke<SessionView>('sign_in');
}

/** Sign out; Rust clears the tokens. */
export function signOut(): Promise<SessionView> {
  return invoke<SessionView>('sign_out');
}

/** Lock after inactivity; Rust clears the tokens. */
export function lock(): Promise<SessionView> {
  return invoke<SessionView>('lock');
}

const OUTCOMES: ReadonlySet<string> = new Set([
  'plan_found',
  'no_plan',
  'could_not_check',
  'patient_not_found',
  'invalid_nhs_number',
  'superseded',
]);

/** A cheap shape check, so a malformed answer becomes "could not check", never a crash. */
export function isLookupResponse(value: unknown): value is LookupResponse {
  if (typeof value !== 'object' || value === null) return false;
  const response = value as Record<string, unknown>;
  const view = response.view as Record<string, unknown> | null | undefined;
  if (typeof response.lookup_id !== 'number' || typeof view !== 'object' || view === null) {
    return false;
  }
  if (typeof view.outcome !== 'string' || !OUTCOMES.has(view.outcome)) return false;
  if (view.outcome === 'plan_found') {
    return (
      typeof view.patient === 'object' &&
      view.patient !== null &&
      Array.isArray(view.plans) &&
      view.plans.length > 0 &&
      Array.isArray(view.access_history)
    );
  }
  if (view.outcome === 'no_plan') return typeof view.patient === 'object' && view.patient !== null;
  return true;
}

/** Look up an NHS number as the user typed, pasted or scanned it. */
export async function lookup(input: string): Promise<LookupResponse> {
  const response: unknown = await invoke('lookup', { input });
  if (!isLookupResponse(response)) {
    throw new BackendError('invalid_response', 'The app received an answer it could not read.');
  }
  return response;
}

/** Record that the local authority was contacted after a lookup found a plan. */
export function recordLaContact(request: LaContactRequest): Promise<null> {
  return invoke<null>('record_la_contact', { request });
}

/** Everything the status bar shows. */
export function status(): Promise<StatusView> {
  return invoke<StatusView>('status');
}

/** Settings the UI needs, such as the inactivity lock. */
export function uiSettings(): Promise<UiSettings> {
  return invoke<UiSettings>('ui_settings');
}

/** Check an NHS number the user typed, pasted or scanned. */
export function checkNhsNumber(input: string): Promise<NhsNumberCheck> {
  return invoke<NhsNumberCheck>('check_nhs_number', { input });
}

/** Facts about the running app. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>('app_info');
}
