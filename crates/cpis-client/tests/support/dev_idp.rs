//! Starts the real development identity provider (`node dev-idp/server.js`) on a free port with
//! its test hooks, through cpis-supervisor, and stops it when dropped. Fails clearly when
//! `npm ci` has not been run.

// Not every test binary that includes this uses all of it.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use cpis_supervisor::{Launch, Ready, Sink, Supervised};

/// The identity provider, stopped (with everything it started) when dropped.
pub struct DevIdp {
    pub issuer: String,
    _process: Supervised,
}

pub fn dev_idp_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../dev-idp")
}

/// Node from `target/tools/bin` when `cargo xtask setup` put it there, else PATH.
fn node() -> PathBuf {
    let local = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/tools/bin/node");
    if local.is_file() {
        local
    } else {
        PathBuf::from("node")
    }
}

impl DevIdp {
    pub fn start() -> DevIdp {
        DevIdp::start_with(&[])
    }

    /// Start with extra environment variables (such as `DEV_IDP_BROKER_JWKS`, another file for
    /// the broker's public keys).
    pub fn start_with(environment: &[(&str, &str)]) -> DevIdp {
        let directory = dev_idp_dir();
        assert!(
            directory.join("node_modules/oidc-provider").is_dir(),
            "dev-idp/node_modules is missing: run `npm ci` in {} (`cargo xtask setup` does this)",
            directory.display()
        );
        let mut command = Command::new(node());
        command
            .args(["server.js", "--port", "0", "--test-hooks"])
            .current_dir(&directory)
            .envs(environment.iter().copied());
        let process = Launch::new("dev-idp", command)
            .stdout(Sink::Null)
            .stderr(Sink::Null)
            .ready_when(
                Ready::StdoutLine("dev-idp listening on ".to_owned()),
                Duration::from_secs(30),
            )
            .start()
            .unwrap_or_else(|error| {
                panic!("could not start dev-idp (is Node.js 20.19+ installed?): {error}")
            });
        let issuer = process
            .announced()
            .expect("dev-idp announced its issuer")
            .to_owned();
        DevIdp {
            issuer,
            _process: process,
        }
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
