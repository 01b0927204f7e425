//! Build script: generates the Tauri context and the permissions for the app's own commands.
//!
//! The config lives at the top level (`../tauri.conf.json`); `src-tauri/tauri.conf.json` is a
//! symlink to it so that cargo, the Tauri CLI and the bundler all read the same file with
//! paths relative to `src-tauri/`.

// The command names: the one list shared by the shell, its tests and the UI's bindings.
include!("../crates/cpis-ipc/src/commands.rs");

fn main() {
    let manifest = tauri_build::AppManifest::new().commands(&COMMANDS);
    tauri_build::try_build(tauri_build::Attributes::new().app_manifest(manifest))
        .unwrap_or_else(|error| panic!("tauri build failed: {error:#}"));
}
