//! Build script: the Tauri context for the empty baseline app.

fn main() {
    tauri_build::build();
}
