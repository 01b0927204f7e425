//! The HTTP client the `openidconnect` crate uses for discovery, keys and tokens: the hardened
//! reqwest client, redirects off, responses capped, transport errors in a few fixed words.

use std::future::Future;
use std::pin::Pin;

use openidconnect::{AsyncHttpClient, HttpRequest, HttpResponse};

/// The most a provider response may be.
const MAX_PROVIDER_RESPONSE_BYTES: usize = 1024 * 1024;

/// The HTTP client the `openidconnect` crate uses: our reqwest, with redirects off (as the crate
/// advises against SSRF) and a size cap on responses.
#[derive(Debug, Clone)]
pub(super) struct ProviderHttp {
    pub(super) client: reqwest::Client,
}

/// A transport failure talking to the provider.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderHttpError(String);

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = ProviderHttpError;
    type Future =
        Pin<Box<dyn Future<Output = Result<HttpResponse, ProviderHttpError>> + Send + 'c>>;

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
                .map_err(|error| ProviderHttpError(transport_message(&error)))?;
            let status = response.status();
            let headers = response.headers().clone();
            let body = crate::http_body::read_capped(response, MAX_PROVIDER_RESPONSE_BYTES)
                .await
                .map_err(|error| ProviderHttpError(error.to_string()))?;
            let mut http_response = HttpResponse::new(body);
            *http_response.status_mut() = status;
            *http_response.headers_mut() = headers;
            Ok(http_response)
        })
    }
}

pub(super) fn transport_message(error: &reqwest::Error) -> String {
    if error.is_timeout() {
        "timed out".to_owned()
    } else if error.is_connect() {
        "could not connect".to_owned()
    } else {
        "request failed".to_owned()
    }
}
