//! The outgoing HTTP client: reqwest with redirects off, timeouts, responses capped, and the
//! adapter the `openidconnect` crate calls CIS2 through.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The most a response from CIS2 or the platform may be.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// A transport failure, in a few fixed words (never a URL or a body).
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub &'static str);

/// The outgoing client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Http {
    /// The reqwest client.
    pub client: reqwest::Client,
}

impl Http {
    /// Redirects off (against SSRF through a redirect), 5 s to connect, 15 s in all.
    pub fn new() -> Result<Http, TransportError> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(15))
            .build()
            .map_err(|_| TransportError("could not build the HTTP client"))?;
        Ok(Http { client })
    }
}

/// What a reqwest error was, in fixed words.
pub fn transport_message(error: &reqwest::Error) -> &'static str {
    if error.is_timeout() {
        "timed out"
    } else if error.is_connect() {
        "could not connect"
    } else {
        "request failed"
    }
}

/// Read at most [`MAX_RESPONSE_BYTES`] of `response`'s body.
pub async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, TransportError> {
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|error| TransportError(transport_message(&error)))?
    {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(TransportError("the response is too large"));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

impl<'c> AsyncHttpClient<'c> for Http {
    type Error = TransportError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TransportError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let (parts, body) = request.into_parts();
            let response = self
                .client
                .request(parts.method, parts.uri.to_string())
                .headers(parts.headers)
                .body(body)
                .send()
                .await
                .map_err(|error| TransportError(transport_message(&error)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = read_capped(response).await?;
            let mut http_response = HttpResponse::new(body);
            *http_response.status_mut() = status;
            *http_response.headers_mut() = headers;
            Ok(http_response)
        })
    }
}
