//! Entry point of the CP-IS Viewer desktop app.

// No console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    cpis_viewer_lib::run();
}
