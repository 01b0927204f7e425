//! A misbehaving HTTP/1.1 server on 127.0.0.1 for the fault matrix. It is raw TCP rather than a
//! framework so it can do what real servers and proxies do on a bad day: hang, reset the
//! connection, cut a body short, lie about its length, or drip bytes past the deadline.
//!
//! Paths: `/pds/Patient/{nhs}` (demographics), `/cpis/CareTeam` and `/cpis/AuditEvent`.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

pub const FHIR_JSON: &str = "application/fhir+json";

/// What the server does with one request.
#[derive(Debug, Clone)]
pub enum Reply {
    /// A complete response.
    Full {
        status: u16,
        content_type: Option<&'static str>,
        body: Vec<u8>,
    },
    /// Never answers.
    Hang,
    /// Resets the connection (RST) after reading the request.
    Reset,
    /// Closes the connection after reading the request, without a response.
    CloseWithoutResponse,
    /// Declares a longer body than it sends, then closes.
    Truncated { body: Vec<u8> },
    /// Sends a body of this many bytes with no declared length, closing at the end.
    UndeclaredLength { bytes: usize },
    /// Sends headers and part of the body, then the rest after a pause.
    SlowBody { body: Vec<u8>, pause: Duration },
    /// Pauses, then sends the reply.
    Delayed { pause: Duration, reply: Box<Reply> },
    /// A complete response with one extra header (e.g. `Retry-After`).
    WithHeader {
        status: u16,
        content_type: Option<&'static str>,
        header: (&'static str, &'static str),
        body: Vec<u8>,
    },
    /// Sends the headers (declaring the whole body) and half the body, then resets (RST).
    ResetMidBody { body: Vec<u8> },
}

impl Reply {
    /// 200 with FHIR JSON.
    pub fn fhir(body: Vec<u8>) -> Reply {
        Reply::Full {
            status: 200,
            content_type: Some(FHIR_JSON),
            body,
        }
    }

    /// A status with a FHIR JSON body.
    pub fn status(status: u16, body: Vec<u8>) -> Reply {
        Reply::Full {
            status,
            content_type: Some(FHIR_JSON),
            body,
        }
    }
}

/// One request as received.
#[derive(Debug, Clone)]
pub struct Received {
    pub path: String,
    pub headers: Vec<(String, String)>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// The replies per endpoint. A list is served in order, the last repeating.
#[derive(Debug, Clone)]
pub struct Script {
    pub patient: Vec<Reply>,
    pub care_team: Vec<Reply>,
    pub history: Vec<Reply>,
}

#[derive(Debug)]
pub struct FaultServer {
    pub base: String,
    received: Arc<Mutex<Vec<Received>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for FaultServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl FaultServer {
    pub async fn start(script: Script) -> FaultServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("address"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let script = Arc::new(script);
        let task = {
            let received = received.clone();
            tokio::spawn(async move {
                loop {
                    let Ok((stream, _)) = listener.accept().await else {
                        return;
                    };
                    let received = received.clone();
                    let script = script.clone();
                    tokio::spawn(serve(stream, script, received));
                }
            })
        };
        FaultServer {
            base,
            received,
            task,
        }
    }

    pub fn received(&self) -> Vec<Received> {
        self.received.lock().expect("lock").clone()
    }

    pub fn count(&self, path_prefix: &str) -> usize {
        self.received()
            .iter()
            .filter(|request| request.path.starts_with(path_prefix))
            .count()
    }
}

async fn read_head(stream: &mut TcpStream) -> Option<String> {
    let mut head = Vec::new();
    let mut buffer = [0u8; 4096];
    loop {
        let read = stream.read(&mut buffer).await.ok()?;
        if read == 0 {
            return None;
        }
        head.extend_from_slice(&buffer[..read]);
        if head.windows(4).any(|window| window == b"\r\n\r\n") {
            return Some(String::from_utf8_lossy(&head).into_owned());
        }
    }
}

async fn serve(mut stream: TcpStream, script: Arc<Script>, received: Arc<Mutex<Vec<Received>>>) {
    // One request per connection: keep-alive would let one reply leak into the next test step.
    let Some(head) = read_head(&mut stream).await else {
        return;
    };
    let mut lines = head.split("\r\n");
    let request_line = lines.next().unwrap_or_default();
    let path = request_line
        .split(' ')
        .nth(1)
        .unwrap_or_default()
        .to_owned();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(key, value)| (key.trim().to_owned(), value.trim().to_owned()))
        .collect();
    let chosen = {
        let mut received = received.lock().expect("lock");
        let prefix = endpoint_prefix(&path);
        let index = received
            .iter()
            .filter(|request| endpoint_prefix(&request.path) == prefix)
            .count();
        received.push(Received {
            path: path.clone(),
            headers,
        });
        match prefix {
            "/pds/Patient" => Some((script.patient.clone(), index)),
            "/cpis/CareTeam" => Some((script.care_team.clone(), index)),
            "/cpis/AuditEvent" => Some((script.history.clone(), index)),
            _ => None,
        }
    };
    let Some((replies, index)) = chosen else {
        let _ = write_full(&mut stream, 404, Some("text/plain"), b"no such path").await;
        return;
    };
    let Some(reply) = replies.get(index).or(replies.last()).cloned() else {
        return;
    };
    answer(stream, reply).await;
}

fn endpoint_prefix(path: &str) -> &'static str {
    if path.starts_with("/pds/Patient/") {
        "/pds/Patient"
    } else if path.starts_with("/cpis/CareTeam") {
        "/cpis/CareTeam"
    } else if path.starts_with("/cpis/AuditEvent") {
        "/cpis/AuditEvent"
    } else {
        "other"
    }
}

fn answer(
    mut stream: TcpStream,
    reply: Reply,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
    Box::pin(async move {
        match reply {
            Reply::Full {
                status,
                content_type,
                body,
            } => {
                let _ = write_full(&mut stream, status, content_type, &body).await;
            }
            Reply::Hang => {
                tokio::time::sleep(Duration::from_secs(120)).await;
            }
            Reply::Reset => {
                let _ = stream.set_zero_linger();
                drop(stream);
            }
            Reply::CloseWithoutResponse => {
                let _ = stream.shutdown().await;
            }
            Reply::Truncated { body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {FHIR_JSON}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len() + 500
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.flush().await;
                let _ = stream.shutdown().await;
            }
            Reply::UndeclaredLength { bytes } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {FHIR_JSON}\r\nconnection: close\r\n\r\n"
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let chunk = vec![b' '; 64 * 1024];
                let mut sent = 0;
                while sent < bytes {
                    let size = chunk.len().min(bytes - sent);
                    if stream.write_all(&chunk[..size]).await.is_err() {
                        return;
                    }
                    sent += size;
                }
                let _ = stream.shutdown().await;
            }
            Reply::SlowBody { body, pause } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {FHIR_JSON}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let half = body.len() / 2;
                let _ = stream.write_all(&body[..half]).await;
                let _ = stream.flush().await;
                tokio::time::sleep(pause).await;
                let _ = stream.write_all(&body[half..]).await;
            }
            Reply::Delayed { pause, reply } => {
                tokio::time::sleep(pause).await;
                answer(stream, *reply).await;
            }
            Reply::WithHeader {
                status,
                content_type,
                header: (name, value),
                body,
            } => {
                let mut head = format!("HTTP/1.1 {status} Whatever\r\n{name}: {value}\r\n");
                if let Some(content_type) = content_type {
                    head.push_str(&format!("content-type: {content_type}\r\n"));
                }
                head.push_str(&format!(
                    "content-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                ));
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body).await;
                let _ = stream.flush().await;
                let _ = stream.shutdown().await;
            }
            Reply::ResetMidBody { body } => {
                let head = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: {FHIR_JSON}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
                    body.len()
                );
                let _ = stream.write_all(head.as_bytes()).await;
                let _ = stream.write_all(&body[..body.len() / 2]).await;
                let _ = stream.flush().await;
                // Let the half reach the client before the reset.
                tokio::time::sleep(Duration::from_millis(50)).await;
                let _ = stream.set_zero_linger();
                drop(stream);
            }
        }
    })
}

async fn write_full(
    stream: &mut TcpStream,
    status: u16,
    content_type: Option<&str>,
    body: &[u8],
) -> std::io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} Whatever\r\n");
    if let Some(content_type) = content_type {
        head.push_str(&format!("content-type: {content_type}\r\n"));
    }
    head.push_str(&format!(
        "content-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    ));
    stream.write_all(head.as_bytes()).await?;
    stream.write_all(body).await?;
    stream.flush().await?;
    stream.shutdown().await
}
