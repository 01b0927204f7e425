//! The loopback redirect (RFC 8252 7.3): a listener on `127.0.0.1` on a port the OS picks, which
//! answers the browser's `/callback` with a short page and reads the code and state.
//!
//! Another local process can reach this port too, so the listener trusts nothing it is sent: a
//! callback whose `state` is not the one of this sign-in is answered with a page and ignored
//! (the wait goes on), every connection is served on its own task (an idle or slow connection
//! cannot hold up the browser's), and the whole wait is bounded.

use std::fmt;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::redact::Secret;

use super::{SignInError, constant_time_equal};

/// The most of an HTTP request head the loopback listener reads.
const MAX_CALLBACK_REQUEST_BYTES: usize = 16 * 1024;
/// How long one connection may take to send its request head.
const HEAD_READ_LIMIT: Duration = Duration::from_secs(10);
/// The most connections served at once; more are closed at once.
const MAX_CONNECTIONS: usize = 128;

/// What the browser brought back to the loopback redirect.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct CallbackParams {
    /// The one-time code.
    pub code: Option<Secret>,
    /// The state.
    pub state: Option<String>,
    /// An error code from the broker.
    pub error: Option<String>,
    /// The broker's description of the error (shown only after cleaning).
    pub error_description: Option<String>,
}

impl fmt::Debug for CallbackParams {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("CallbackParams")
            .field("code", &self.code.as_ref().map(|_| "<redacted>"))
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl CallbackParams {
    /// Read the query string of the redirect.
    pub fn from_query(query: &str) -> CallbackParams {
        let mut params = CallbackParams::default();
        let Ok(url) = reqwest::Url::parse(&format!("http://127.0.0.1/callback?{query}")) else {
            return params;
        };
        for (key, value) in url.query_pairs() {
            match key.as_ref() {
                "code" => params.code = Some(Secret::new(value.into_owned())),
                "state" => params.state = Some(value.into_owned()),
                "error" => params.error = Some(value.into_owned()),
                "error_description" => params.error_description = Some(value.into_owned()),
                _ => {}
            }
        }
        params
    }

    fn state_is(&self, expected: &str) -> bool {
        self.state
            .as_deref()
            .is_some_and(|state| constant_time_equal(state.as_bytes(), expected.as_bytes()))
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
    pub async fn bind() -> Result<LoopbackRedirect, SignInError> {
        let listener = TcpListener::bind(("127.0.0.1", 0))
            .await
            .map_err(|error| SignInError::Loopback(error.to_string()))?;
        let port = listener
            .local_addr()
            .map_err(|error| SignInError::Loopback(error.to_string()))?
            .port();
        Ok(LoopbackRedirect {
            listener,
            redirect_uri: format!("http://127.0.0.1:{port}/callback"),
        })
    }

    /// The redirect URI to send in the request, port included.
    pub fn redirect_uri(&self) -> &str {
        &self.redirect_uri
    }

    /// Wait at most `wait` for the browser to come back to `/callback` with `expected_state`.
    /// Callbacks with another state or none are answered with a page saying so and ignored;
    /// other paths (such as `/favicon.ico`) get a 404. Every connection is served on its own
    /// task, so a connection that sends nothing cannot hold up the real one.
    pub async fn wait_for_callback(
        self,
        expected_state: String,
        wait: Duration,
    ) -> Result<CallbackParams, SignInError> {
        let deadline = Instant::now() + wait;
        let (found_sender, mut found) = mpsc::channel::<CallbackParams>(1);
        let mut connections = JoinSet::new();
        let expected: std::sync::Arc<str> = expected_state.into();
        let waiting = async {
            loop {
                tokio::select! {
                    accepted = self.listener.accept() => {
                        while connections.try_join_next().is_some() {}
                        match accepted {
                            Ok((stream, _)) if connections.len() < MAX_CONNECTIONS => {
                                connections.spawn(serve_connection(
                                    stream,
                                    expected.clone(),
                                    found_sender.clone(),
                                ));
                            }
                            Ok((stream, _)) => drop(stream),
                            Err(error) => {
                                // Out of file handles and the like: wait a little, keep going.
                                tracing::warn!(%error, "sign-in redirect listener could not accept");
                                tokio::time::sleep(Duration::from_millis(50)).await;
                            }
                        }
                    }
                    Some(params) = found.recv() => return params,
                }
            }
        };
        let result = tokio::time::timeout_at(deadline, waiting).await;
        connections.abort_all();
        result.map_err(|_| SignInError::TimedOut)
    }
}

const CALLBACK_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>CP-IS Viewer sign-in</title></head><body><main><h1>Sign-in received</h1><p>You can close this browser tab and go back to CP-IS Viewer.</p></main></body></html>";

const WRONG_STATE_PAGE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>CP-IS Viewer sign-in</title></head><body><main><h1>This is not the sign-in CP-IS Viewer is waiting for</h1><p>Go back to CP-IS Viewer and sign in from there.</p></main></body></html>";

async fn serve_connection(
    mut stream: TcpStream,
    expected_state: std::sync::Arc<str>,
    found: mpsc::Sender<CallbackParams>,
) {
    let Some(target) = read_request_target(&mut stream).await else {
        return;
    };
    let Some(query) = target else {
        let _ = stream
            .write_all(b"HTTP/1.1 404 Not Found\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
            .await;
        return;
    };
    let params = CallbackParams::from_query(&query);
    let matches = params.state_is(&expected_state);
    let (status, page) = if matches {
        ("200 OK", CALLBACK_PAGE)
    } else {
        ("400 Bad Request", WRONG_STATE_PAGE)
    };
    let response = format!(
        "HTTP/1.1 {status}\r\ncontent-type: text/html; charset=utf-8\r\ncache-control: no-store\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{page}",
        page.len()
    );
    let _ = stream.write_all(response.as_bytes()).await;
    let _ = stream.shutdown().await;
    if matches {
        let _ = found.send(params).await;
    } else {
        tracing::warn!("a sign-in callback with the wrong state was ignored");
    }
}

/// The query of a `GET /callback` request (`Some(Some(query))`), `Some(None)` for any other
/// request, `None` when no request head arrived in time.
async fn read_request_target(stream: &mut TcpStream) -> Option<Option<String>> {
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
    tokio::time::timeout(HEAD_READ_LIMIT, read_head)
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
        return Some(None);
    }
    Some(Some(query.to_owned()))
}

#[cfg(test)]
mod tests {
    //! The review's "a local process can block or cancel sign-in" (hazard log): each test fails
    //! against a listener that takes the first callback whatever its state, or serves one
    //! connection at a time.

    use super::*;

    async fn get(url: String) -> reqwest::Response {
        reqwest::Client::new()
            .get(url)
            .send()
            .await
            .expect("callback")
    }

    #[tokio::test]
    async fn a_wrong_state_callback_is_answered_and_ignored_and_the_right_one_signs_in() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        let uri = loopback.redirect_uri().to_owned();
        let waiter =
            tokio::spawn(loopback.wait_for_callback("right-state".into(), Duration::from_secs(10)));
        let forged = get(format!("{uri}?code=forged&state=wrong-state")).await;
        assert_eq!(forged.status(), 400);
        assert!(
            forged
                .text()
                .await
                .expect("page")
                .contains("not the sign-in")
        );
        let no_state = get(format!("{uri}?error=access_denied")).await;
        assert_eq!(no_state.status(), 400);
        assert!(
            !waiter.is_finished(),
            "a wrong callback must not end the wait"
        );
        let real = get(format!("{uri}?code=real-code&state=right-state")).await;
        assert_eq!(real.status(), 200);
        let params = waiter.await.expect("task").expect("params");
        assert_eq!(params.state.as_deref(), Some("right-state"));
        assert_eq!(params.code.as_ref().map(Secret::expose), Some("real-code"));
    }

    #[tokio::test]
    async fn an_idle_connection_does_not_block_the_callback() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        let uri = loopback.redirect_uri().to_owned();
        let address = uri
            .trim_start_matches("http://")
            .trim_end_matches("/callback")
            .to_owned();
        let waiter = tokio::spawn(loopback.wait_for_callback("s".into(), Duration::from_secs(30)));
        // Opened and left silent, as a local process might; and one that sends half a head.
        let _idle = TcpStream::connect(&address).await.expect("idle connection");
        let mut slow = TcpStream::connect(&address).await.expect("slow connection");
        slow.write_all(b"GET /callback?state=s&code=slow HTTP/1.1\r\n")
            .await
            .expect("half a head");
        let started = Instant::now();
        let real = tokio::time::timeout(
            Duration::from_secs(3),
            get(format!("{uri}?code=real&state=s")),
        )
        .await
        .expect("the callback is served while another connection is idle");
        assert_eq!(real.status(), 200);
        let params = tokio::time::timeout(Duration::from_secs(3), waiter)
            .await
            .expect("the wait ends")
            .expect("task")
            .expect("params");
        assert_eq!(params.code.as_ref().map(Secret::expose), Some("real"));
        assert!(started.elapsed() < Duration::from_secs(3));
    }

    #[tokio::test]
    async fn the_wait_ends_at_the_bound_even_with_connections_open() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        let address = loopback
            .redirect_uri()
            .trim_start_matches("http://")
            .trim_end_matches("/callback")
            .to_owned();
        let started = Instant::now();
        let waiter =
            tokio::spawn(loopback.wait_for_callback("s".into(), Duration::from_millis(300)));
        let _idle = TcpStream::connect(&address).await.expect("idle connection");
        let forged = get(format!("http://{address}/callback?state=wrong")).await;
        assert_eq!(forged.status(), 400);
        let result = tokio::time::timeout(Duration::from_secs(2), waiter)
            .await
            .expect("the wait is bounded")
            .expect("task");
        assert_eq!(result, Err(SignInError::TimedOut));
        assert!(started.elapsed() >= Duration::from_millis(300));
    }

    #[tokio::test]
    async fn other_paths_get_a_404_and_the_wait_goes_on() {
        let loopback = LoopbackRedirect::bind().await.expect("bind");
        let uri = loopback.redirect_uri().to_owned();
        let base = uri.trim_end_matches("/callback").to_owned();
        let waiter =
            tokio::spawn(loopback.wait_for_callback("st4te".into(), Duration::from_secs(10)));
        assert_eq!(get(format!("{base}/favicon.ico")).await.status(), 404);
        assert_eq!(get(format!("{uri}?code=c&state=st4te")).await.status(), 200);
        let params = waiter.await.expect("task").expect("params");
        assert_eq!(params.state.as_deref(), Some("st4te"));
    }
}
