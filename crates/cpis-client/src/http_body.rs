//! Reading a response body with a size cap, so an oversized or endless body cannot exhaust
//! memory or outlast the deadline unnoticed.

/// Why a body could not be read in full.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub(crate) enum BodyError {
    /// More bytes than allowed (declared or sent).
    #[error("the response was too large")]
    TooLarge,
    /// The connection ended or failed before the whole body arrived.
    #[error("the response was cut short")]
    Truncated,
}

/// The whole body, at most `cap` bytes.
pub(crate) async fn read_capped(
    mut response: reqwest::Response,
    cap: usize,
) -> Result<Vec<u8>, BodyError> {
    if response
        .content_length()
        .is_some_and(|declared| declared > cap as u64)
    {
        return Err(BodyError::TooLarge);
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(BodyError::TooLarge);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(_) => return Err(BodyError::Truncated),
        }
    }
}
