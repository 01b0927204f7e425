// The commands the app's screens call. Every call goes through `call` (./call.ts, the only code
// that calls Tauri's invoke) with a name from the generated `COMMANDS` and the generated types.
// A rejected promise carries an IpcError; `ipcErrorMessage` turns anything into safe words.
import { call } from './call';
import { IPC_ERROR_CODES } from './bindings';
import type {
  IpcError,
  IpcErrorCode,
  LaContactRequest,
  LookupResponse,
  PlanStatusCode,
  SessionView,
  SetupProblemView,
  StatusView,
  UiSettings,
} from './bindings';

export { assertNever, onLocked } from './call';

export type {
  AccessView,
  AuditStatusView,
  CommandName,
  ContactMethod,
  CouldNotCheckCode,
  IpcError,
  IpcErrorCode,
  LaContactRequest,
  LocalAuthorityView,
  LookupResponse,
  LookupView,
  NhsNumberErrorCode,
  PatientView,
  PhoneView,
  PlanStatusCode,
  PlanStatusView,
  PlanTypeCode,
  PlanView,
  SessionView,
  SetupProblemView,
  SocialWorkerView,
  StatusView,
  TrustContactsView,
  UiSettings,
  UserView,
} from './bindings';

/** An IpcError raised on this side of the boundary, such as for an answer of the wrong shape. */
export class BackendError extends Error implements IpcError {
  readonly code: IpcErrorCode;

  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.name = 'BackendError';
    this.code = code;
  }
}

/**
 * Whether a rejection value is the IpcError that our commands reject with: a code from the
 * generated list and a message. Anything else (an unknown code included) is not shown.
 */
export function isIpcError(value: unknown): value is IpcError {
  if (typeof value !== 'object' || value === null) return false;
  const record = value as Record<string, unknown>;
  return (
    typeof record.code === 'string' &&
    (IPC_ERROR_CODES as readonly string[]).includes(record.code) &&
    typeof record.message === 'string'
  );
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
  return call<SessionView>('session_state');
}

/** Sign in through the system browser; resolves when sign-in finishes (it may take minutes). */
export function signIn(): Promise<SessionView> {
  return call<SessionView>('sign_in');
}

/** Cancel a sign-in that is waiting for the browser; its late answer signs nobody in. */
export function cancelSignIn(): Promise<null> {
  return call<null>('cancel_sign_in');
}

/** Sign out; Rust clears the tokens. */
export function signOut(): Promise<SessionView> {
  return call<SessionView>('sign_out');
}

/** Lock after inactivity; Rust clears the tokens. */
export function lock(): Promise<SessionView> {
  return call<SessionView>('lock');
}

/**
 * Tell Rust the user is active in the window (keys, mouse, touch), so its own inactivity lock
 * does not lock a session in use. Rejects with `locked` once Rust has locked it.
 */
export function reportActivity(): Promise<null> {
  return call<null>('report_activity');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

function strings(record: Record<string, unknown>, keys: string[]): boolean {
  return keys.every((key) => typeof record[key] === 'string');
}

function nullableStrings(record: Record<string, unknown>, keys: string[]): boolean {
  return keys.every((key) => record[key] === null || typeof record[key] === 'string');
}

function isPatient(value: unknown): boolean {
  return (
    isObject(value) &&
    strings(value, ['nhs_number', 'name', 'date_of_birth', 'gender']) &&
    nullableStrings(value, [
      'date_of_birth_note',
      'not_recorded_warning',
      'restricted_notice',
      'date_of_death',
    ])
  );
}

/**
 * A phone as Rust read it: words to show, and a link only as `tel:` with `+` and digits, so
 * nothing else can reach a link's address; an extension is digits. `null` is a phone not given.
 */
export function isPhoneOrNull(value: unknown): boolean {
  return (
    value === null ||
    (isObject(value) &&
      typeof value.display === 'string' &&
      value.display.trim() !== '' &&
      (value.tel === null || (typeof value.tel === 'string' && /^tel:\+[0-9]+$/.test(value.tel))) &&
      (value.extension === null ||
        (typeof value.extension === 'string' && /^[0-9]+$/.test(value.extension))))
  );
}

/** Every plan status code Rust sends (`PlanStatusCode`). */
const PLAN_STATUS_CODES: readonly PlanStatusCode[] = [
  'active',
  'starts',
  'due_today',
  'due_passed',
  'ended',
  'inactive',
  'suspended',
  'proposed',
];

/** A plan's status as Rust decided it: a known code and the words for the tag. */
function isPlanStatus(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.text === 'string' &&
    value.text.trim() !== '' &&
    (PLAN_STATUS_CODES as readonly unknown[]).includes(value.code)
  );
}

/**
 * A plan as Rust sends it. A record whose type, start date, ODS code or phones CP-IS did not give
 * carries null there and is still a found record: it must be shown, never turned into an error.
 */
function isPlan(value: unknown): boolean {
  return (
    isObject(value) &&
    strings(value, ['plan_name']) &&
    isPlanStatus(value.status) &&
    nullableStrings(value, ['plan_type', 'start', 'end']) &&
    isObject(value.local_authority) &&
    strings(value.local_authority, ['name']) &&
    nullableStrings(value.local_authority, ['ods_code']) &&
    isPhoneOrNull(value.local_authority.office_hours_phone) &&
    isPhoneOrNull(value.local_authority.emergency_duty_phone) &&
    (value.social_worker === null ||
      (isObject(value.social_worker) &&
        typeof value.social_worker.name === 'string' &&
        isPhoneOrNull(value.social_worker.phone)))
  );
}

/**
 * A shape check of the fields the page shows, so a malformed answer becomes "could not check",
 * never a crash, a blank field or "no plan".
 */
export function isLookupResponse(value: unknown): value is LookupResponse {
  if (!isObject(value) || typeof value.lookup_id !== 'number' || !isObject(value.view)) {
    return false;
  }
  if (value.audit_warning !== null && typeof value.audit_warning !== 'string') return false;
  const view = value.view;
  switch (view.outcome) {
    case 'plan_found':
      return (
        isPatient(view.patient) &&
        typeof view.checked_at === 'string' &&
        Array.isArray(view.plans) &&
        view.plans.length > 0 &&
        view.plans.every(isPlan) &&
        Array.isArray(view.access_history)
      );
    case 'no_plan':
      return isPatient(view.patient) && typeof view.checked_at === 'string';
    case 'could_not_check':
      return (
        strings(view, ['reason_code', 'reason', 'attempted_at']) &&
        // Optional on the wire: an answer without it still shows the reason.
        (view.support_reference === undefined || isStringOrNull(view.support_reference))
      );
    case 'patient_not_found':
      return strings(view, ['nhs_number', 'checked_at']);
    case 'invalid_nhs_number':
      return typeof view.message === 'string';
    case 'superseded':
      return true;
    default:
      return false;
  }
}

/** Look up an NHS number as the user typed, pasted or scanned it. */
export async function lookup(input: string): Promise<LookupResponse> {
  const response: unknown = await call<unknown>('lookup', { input });
  if (!isLookupResponse(response)) {
    throw new BackendError('invalid_response', 'The app received an answer it could not read.');
  }
  return response;
}

/** Record that the local authority was contacted after a lookup found a plan. */
export function recordLaContact(request: LaContactRequest): Promise<null> {
  return call<null>('record_la_contact', { request });
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((entry) => typeof entry === 'string');
}

function isStringOrNull(value: unknown): value is string | null {
  return value === null || typeof value === 'string';
}

function isAuditStatus(value: unknown): boolean {
  return (
    isObject(value) &&
    typeof value.waiting === 'number' &&
    typeof value.quarantined === 'number' &&
    typeof value.warning === 'boolean' &&
    typeof value.unreadable_files === 'number' &&
    (value.oldest_waiting_minutes === null || typeof value.oldest_waiting_minutes === 'number') &&
    isStringOrNull(value.last_success) &&
    (value.queue_error === null || isIpcError(value.queue_error))
  );
}

/** A shape check of the status bar's answer, so a malformed one shows "Status not known". */
export function isStatusView(value: unknown): value is StatusView {
  return (
    isObject(value) &&
    typeof value.version === 'string' &&
    (value.services_reachable === null || typeof value.services_reachable === 'boolean') &&
    isAuditStatus(value.audit) &&
    isStringArray(value.config_files)
  );
}

/** Everything the status bar shows. */
export async function status(): Promise<StatusView> {
  const answer: unknown = await call<unknown>('status');
  if (!isStatusView(answer)) {
    throw new BackendError('invalid_response', 'The app received a status it could not read.');
  }
  return answer;
}

function isTrustContacts(value: unknown): boolean {
  return (
    isObject(value) &&
    isStringArray(value.downtime_procedure) &&
    isPhoneOrNull(value.safeguarding_in_hours) &&
    isStringOrNull(value.safeguarding_in_hours_times) &&
    isPhoneOrNull(value.safeguarding_out_of_hours)
  );
}

/**
 * A shape check of the settings, so that a malformed answer keeps the defaults (the 15 minute
 * lock, the role's organisation name, no trust contacts) rather than showing half of it.
 */
export function isUiSettings(value: unknown): value is UiSettings {
  return (
    isObject(value) &&
    typeof value.lock_minutes === 'number' &&
    isStringOrNull(value.organisation_display_name) &&
    isTrustContacts(value.trust)
  );
}

/** Settings the UI needs: the inactivity lock, the organisation's name, the trust's contacts. */
export async function uiSettings(): Promise<UiSettings> {
  const answer: unknown = await call<unknown>('ui_settings');
  if (!isUiSettings(answer)) {
    throw new BackendError('invalid_response', 'The app received settings it could not read.');
  }
  return answer;
}

/** A shape check of the setup answer: `null`, or the problems and where the files go. */
export function isSetupProblem(value: unknown): value is SetupProblemView | null {
  return (
    value === null ||
    (isObject(value) &&
      isStringArray(value.problems) &&
      typeof value.machine_file === 'string' &&
      isStringOrNull(value.user_file))
  );
}

/**
 * Whether the app is set up on this computer: `null` when it is. Otherwise the app has no
 * working core, and no other command may be called. Asked before anything else.
 */
export async function setupProblem(): Promise<SetupProblemView | null> {
  const answer: unknown = await call<unknown>('setup_problem');
  if (!isSetupProblem(answer)) {
    throw new BackendError('invalid_response', 'The app received an answer it could not read.');
  }
  return answer;
}
