//! The desktop shell: creates the window, registers the commands, and nothing else.
//!
//! Architecture invariant: this crate is thin. Every command is a few lines that call a
//! library crate and convert to IPC types from `cpis-ipc`; logic lives in `crates/`.

use cpis_ipc::{AppInfo, NhsNumberCheck};
use tauri::{WebviewUrl, WebviewWindowBuilder};

/// Check an NHS number typed or scanned into the lookup field.
#[tauri::command]
fn check_nhs_number(input: String) -> NhsNumberCheck {
    cpis_ipc::check_nhs_number(&input)
}

/// Facts about the running app for the status bar.
#[tauri::command]
fn app_info(app: tauri::AppHandle) -> AppInfo {
    AppInfo {
        version: app.package_info().version.to_string(),
    }
}

/// Whether the main window may navigate to `url`: only the app's own bundled pages.
pub fn is_app_url(url: &tauri::Url) -> bool {
    match url.scheme() {
        "tauri" => url.host_str() == Some("localhost"),
        "http" | "https" => url.host_str() == Some("tauri.localhost"),
        _ => false,
    }
}

/// Start the app.
pub fn run() {
    let result = tauri::Builder::default()
        .invoke_handler(tauri::generate_handler![check_nhs_number, app_info])
        .setup(|app| {
            WebviewWindowBuilder::new(app, "main", WebviewUrl::App("index.html".into()))
                .title("CP-IS Viewer")
                .inner_size(1100.0, 820.0)
                .min_inner_size(360.0, 480.0)
                .on_navigation(is_app_url)
                .build()?;
            Ok(())
        })
        .run(tauri::generate_context!());
    if let Err(error) = result {
        eprintln!("CP-IS Viewer could not start: {error}");
        std::process::exit(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn navigation_is_limited_to_the_app_itself() {
        let allowed = ["tauri://localhost/index.html", "http://tauri.localhost/"];
        let refused = [
            "https://example.org/",
            "http://localhost:5173/",
            "file:///etc/passwd",
            "tauri://evil/",
            "javascript:alert(1)",
        ];
        for url in allowed {
            assert!(is_app_url(&url.parse().expect("url")), "{url}");
        }
        for url in refused {
            assert!(!is_app_url(&url.parse().expect("url")), "{url}");
        }
    }
}
