// The one place that calls Tauri's invoke. A command must be one of the names the shell
// registers (`COMMANDS`, generated from crates/cpis-ipc), so a misspelt or removed command does
// not compile; a Rust test checks that this folder calls exactly those commands. A command
// refused because Rust's inactivity lock has locked the app (`locked`) is also announced to
// whoever listens (`onLocked`), so the window shows the lock screen whichever screen asked.
import { invoke, type InvokeArgs } from '@tauri-apps/api/core';
import type { CommandName } from './bindings';

type LockedListener = () => void;

const lockedListeners = new Set<LockedListener>();

/** Be told when any command is refused as `locked`. Returns the function that stops it. */
export function onLocked(listener: LockedListener): () => void {
  lockedListeners.add(listener);
  return () => {
    lockedListeners.delete(listener);
  };
}

function isLockedRefusal(error: unknown): boolean {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as Record<string, unknown>).code === 'locked'
  );
}

/** Call a registered command. A rejection carries the command's IpcError. */
export async function call<T>(command: CommandName, args?: InvokeArgs): Promise<T> {
  try {
    return await invoke<T>(command, args);
  } catch (error: unknown) {
    if (isLockedRefusal(error)) {
      for (const listener of [...lockedListeners]) listener();
    }
    throw error;
  }
}

/** For a `switch` over a generated union: a value that cannot exist once every case is handled. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
