// Generated from crates/cpis-ipc by `cargo xtask codegen`. Do not edit by hand.

export type NhsNumberErrorCode = "empty" | "invalid_characters" | "wrong_length" | "check_digit" | "too_long";

export type NhsNumberCheck = { "status": "valid", 
/**
 * The spaced form.
 */
formatted: string, } | { "status": "invalid", 
/**
 * Why, as a stable code.
 */
code: NhsNumberErrorCode, 
/**
 * The NHS error message to show under the field.
 */
message: string, };

export type IpcError = { 
/**
 * Stable machine-readable code.
 */
code: string, 
/**
 * A safe, fixed message for the user.
 */
message: string, };

export type AppInfo = { 
/**
 * The app's version.
 */
version: string, };
