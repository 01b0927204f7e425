// The only module that calls Tauri's invoke. Every call is typed with the generated bindings.
import { invoke } from '@tauri-apps/api/core';
import type { AppInfo, NhsNumberCheck } from './bindings';

export type { AppInfo, NhsNumberCheck, NhsNumberErrorCode, IpcError } from './bindings';

/** Check an NHS number the user typed, pasted or scanned. */
export function checkNhsNumber(input: string): Promise<NhsNumberCheck> {
  return invoke<NhsNumberCheck>('check_nhs_number', { input });
}

/** Facts about the running app for the status bar. */
export function appInfo(): Promise<AppInfo> {
  return invoke<AppInfo>('app_info');
}
