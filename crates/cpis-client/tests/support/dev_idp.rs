//! Starts the real development identity provider (`node dev-idp/server.js`) on a free port with
//! its test hooks, and stops it when dropped. Fails clearly when `npm ci` has not been run.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct DevIdp {
    pub issuer: String,
    child: Child,
}

impl Drop for DevIdp {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub fn dev_idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dev-idp")
}

impl DevIdp {
    pub fn start() -> DevIdp {
        DevIdp::start_with(&[])
    }

    /// Start with extra environment variables (such as `DEV_IDP_ACCESS_TOKEN_TTL_SECONDS`).
    pub fn start_with(environment: &[(&str, &str)]) -> DevIdp {
        let directory = dev_idp_dir();
        assert!(
            directory.join("node_modules/oidc-provider").is_dir(),
            "dev-idp/node_modules is missing: run `npm ci` in {} (`cargo xtask setup` does this)",
            directory.display()
        );
        let mut child = Command::new("node")
            .args(["server.js", "--port", "0", "--test-hooks"])
            .current_dir(&directory)
            .envs(environment.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("could not start node for dev-idp: {error} (is Node.js 20.19+ installed?)")
            });
        let stdout = child.stdout.take().expect("stdout");
        let (sender, receiver) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            while let Some(Ok(line)) = lines.next() {
                if let Some(issuer) = line.strip_prefix("dev-idp listening on ") {
                    let _ = sender.send(issuer.to_owned());
                }
            }
        });
        let issuer = match receiver.recv_timeout(Duration::from_secs(30)) {
            Ok(issuer) => issuer,
            Err(_) => {
                let _ = child.kill();
                panic!("dev-idp did not start within 30 seconds");
            }
        };
        DevIdp { issuer, child }
    }

    /// Make the next token response carry a deliberately bad ID token.
    pub async fn tamper_next_id_token(&self, mode: &str) {
        let response = reqwest::Client::new()
            .post(format!("{}/test/tamper-next-id-token", self.issuer))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(format!("mode={mode}"))
            .send()
            .await
            .expect("test hook");
        assert_eq!(response.status(), 204, "tamper mode {mode}");
    }
}
