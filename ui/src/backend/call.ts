// The one place that calls Tauri's invoke. A command must be one of the names the shell
// registers (`COMMANDS`, generated from crates/cpis-ipc), so a misspelt or removed command does
// not compile; a Rust test checks that this folder calls exactly those commands.
import { invoke, type InvokeArgs } from '@tauri-apps/api/core';
import type { CommandName } from './bindings';

/** Call a registered command. A rejection carries the command's IpcError. */
export function call<T>(command: CommandName, args?: InvokeArgs): Promise<T> {
  return invoke<T>(command, args);
}

/** For a `switch` over a generated union: a value that cannot exist once every case is handled. */
export function assertNever(value: never): never {
  throw new Error(`unhandled case: ${String(value)}`);
}
