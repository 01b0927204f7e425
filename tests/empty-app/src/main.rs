//! An empty Tauri app: one window showing one text field, with the same Tauri version, features
//! and build profile as CP-IS Viewer. `cargo xtask bench` measures its start-up and memory as
//! the baseline for the app's own.

// As the app: no console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    let result = tauri::Builder::default()
        .setup(|app| {
            tauri::WebviewWindowBuilder::new(app, "main", tauri::WebviewUrl::default())
                .title("Empty Tauri app")
                .inner_size(1100.0, 800.0)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("the empty app failed: {error}");
        std::process::exit(1);
    }
}
