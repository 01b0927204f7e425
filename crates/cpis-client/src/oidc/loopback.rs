//! The loopback redirect (RFC 8252 7.3): a listener on `127.0.0.1` on a port the OS picks, which
//! answers the browser's `/callback` with a short page and reads the code, state and issuer.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::redact::Secret;

use super::OidcError;

/// The most of an HTTP request head the loopback listener reads.
const MAX_CALLBACK_REQUEST_BYTES: usize = 16 * 1024;

/// What the browser brought back to the loopback redirect.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CallbackParams {
    /// The authorization code.
    pub code: Option<Secret>,
    /// The state.
    pub state: Option<String>,
    /// The issuer (RFC 9207), when the provider sends it.
    pub iss: Option<String>,
    /// An error code from the provider.
    pub error: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("iss", &self.iss)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl CallbackParams {
    /// Read the query string of the redirect.
    pub fn from_query(query: &str) -> CallbackParams {
        let mut params = CallbackParams::default();
        for (key, value) in openidconnect::url::form_urlencoded::parse(query.as_bytes()) {
            match key.as_ref() {
                "code" => params.code = Some(Secret::new(value.into_owned())),
                "state" => params.state = Some(value.into_owned()),
                "iss" => params.iss = Some(value.into_owned()),
                "error" => params.error = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }
}

/// The loopback listener for the redirect (RFC 8252 7.3): `127.0.0.1`, a port the OS picks.
#[derive(Debug)]
pub struct LoopbackRedirect {
    listener: TcpListener,
    redirect_uri: String,
}

impl LoopbackRedirect {
    /// Listen on `127.0.0.1` on an ephemeral port.
    pub async fn bind() -> Result<LoopbackRedirect, OidcError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| OidcError::Loopback(error.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|error| OidcError::Loopback(error.to_string()))?
            .port();
        Ok(LoopbackRedirect {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }

    /// The redirect URI to register in the request, port included.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Wait for the browser to come back to `/callback`, answering it with a short page. Other
    /// paths (such as `/favicon.ico`) get a 404 and the wait goes on.
    pub async fn wait_for_callback(self, wait: Duration) -> Result<CallbackParams, OidcError> {
        tokio::time::timeout(wait, async {
            loop {
                let (stream, _) = self
                    .listener
                    .accept()
                    .await
                    .map_err(|error| OidcError::Loopback(error.to_string()))?;
                if let Some(params) = handle_callback_connection(stream).await {
                    return Ok(params);
                }
            }
        })
        .await
        .map_err(|_| OidcError::TimedOut)?
    }
}

const CALLBACK_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>CP-IS Viewer sign-in</title></head><body><main><h1>Sign-in received</h1><p>You can close this browser tab and go back to CP-IS Viewer.</p></main></body></html>";

async fn handle_callback_connection(mut stream: TcpStream) -> Option<CallbackParams> {
    let mut head = Vec::with_capacity(1024);
    let mut buffer = [0u8; 1024];
    let read_head = async {
        loop {
            let read = stream.read(&mut buffer).await.ok()?;
            if read == 0 {
                return None;
            }
            head.extend_from_slice(&buffer[..read]);
            if head.windows(4).any(|window| window == b"\r\n\r\n") {
                return Some(());
            }
            if head.len() > MAX_CALLBACK_REQUEST_BYTES {
                return None;
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), read_head)
        .await
        .ok()??;
    let request_line = String::from_utf8_lossy(&head)
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut parts = request_line.split(' ');
    let method = parts.next().unwrap_or_default();
    let target = parts.next().unwrap_or_default();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    if method != "GET" || path != "/callback" {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        return None;
    }
    let response = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{CALLBACK_PAGE}",
        CALLBACK_PAGE.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    Some(CallbackParams::from_query(query))
}
