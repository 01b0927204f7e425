//! Makes sure a real Secret Service is there for the keyring tests. With a session bus
//! (`DBUS_SESSION_BUS_ADDRESS`) and no keyring daemon on it, starts `gnome-keyring-daemon`
//! unlocked. Without a session bus the test fails with a clear message: it never skips.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::OnceLock;

const HOW_TO_RUN: &str = "run the tests inside a D-Bus session with an unlocked keyring, for example: \
dbus-run-session -- bash -c 'echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; cargo test -p cpis-client' \
(Debian packages: dbus, gnome-keyring)";

fn secret_service_is_on_the_bus() -> bool {
    Command::new("dbus-send")
        .args([
            "--session",
            "--print-reply",
            "--dest=org.freedesktop.DBus",
            "/org/freedesktop/DBus",
            "org.freedesktop.DBus.NameHasOwner",
            "string:org.freedesktop.secrets",
        ])
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).contains("boolean true"))
        .unwrap_or(false)
}

fn start_gnome_keyring() -> Result<(), String> {
    let mut child = Command::new("gnome-keyring-daemon")
        .args(["--unlock", "--components=secrets", "--daemonize"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|error| format!("could not start gnome-keyring-daemon ({error}); {HOW_TO_RUN}"))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(b"test")
            .map_err(|error| format!("could not unlock gnome-keyring-daemon: {error}"))?;
    }
    child
        .wait()
        .map_err(|error| format!("gnome-keyring-daemon failed: {error}"))?;
    for _ in 0..50 {
        if secret_service_is_on_the_bus() {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    Err(format!(
        "gnome-keyring-daemon did not appear on the session bus; {HOW_TO_RUN}"
    ))
}

/// Panics with instructions when no Secret Service can be had.
pub fn require_secret_service() {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let ready = READY.get_or_init(|| {
        if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none_or(|value| value.is_empty()) {
            return Err(format!(
                "no D-Bus session bus (DBUS_SESSION_BUS_ADDRESS is not set); {HOW_TO_RUN}"
            ));
        }
        if secret_service_is_on_the_bus() {
            return Ok(());
        }
        start_gnome_keyring()
    });
    if let Err(message) = ready {
        panic!("the keyring tests need the real Secret Service: {message}");
    }
}
