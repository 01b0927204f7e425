// A fake backend over mockIPC: each command answers from a handler, and every call is recorded.
import { mockIPC } from '@tauri-apps/api/mocks';
import type { CommandName, IpcErrorCode } from '../backend';
import { SIGNED_IN, STATUS_OK, uiSettingsView } from './fixtures';

export type Handler = (args: Record<string, unknown>) => unknown;

export interface Call {
  command: string;
  args: Record<string, unknown>;
}

const DEFAULTS: Partial<Record<CommandName, Handler>> = {
  setup_problem: () => null,
  session_state: () => SIGNED_IN,
  ui_settings: () => uiSettingsView(),
  status: () => STATUS_OK,
  report_activity: () => null,
};

/** Install the fake backend; unknown commands reject like a missing Tauri command would. */
export function mockBackend(handlers: Partial<Record<CommandName, Handler>> = {}): Call[] {
  const calls: Call[] = [];
  const all: Record<string, Handler | undefined> = { ...DEFAULTS, ...handlers };
  mockIPC((command, payload) => {
    const args = (payload ?? {}) as Record<string, unknown>;
    calls.push({ command, args });
    const handler = all[command];
    if (handler === undefined) {
      return Promise.reject(new Error(`command ${command} not found`));
    }
    return handler(args);
  });
  return calls;
}

/** The calls made to one command. */
export function callsTo(calls: Call[], command: CommandName): Record<string, unknown>[] {
  return calls.filter((call) => call.command === command).map((call) => call.args);
}

/** A promise whose answer the test decides later. */
export function deferred<T>(): {
  promise: Promise<T>;
  resolve: (value: T) => void;
  reject: (reason: unknown) => void;
} {
  let resolve: (value: T) => void = () => undefined;
  let reject: (reason: unknown) => void = () => undefined;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

/** A rejection as Tauri gives it: the serialised IpcError, a plain object rather than an Error. */
export function ipcRejection(code: IpcErrorCode, message: string): Promise<never> {
  // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
  return Promise.reject({ code, message });
}
