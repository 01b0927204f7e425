//! A JWT's header and payload read as JSON without verifying anything, so a refusal can name
//! what is missing or wrong before (or instead of) checking the signature.

fn decode_segment(token: &str, index: usize) -> Option<serde_json::Value> {
    use base64::Engine;
    let segment = token.split('.').nth(index)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(segment.trim_end_matches('='))
        .ok()?;
    let value: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    value.is_object().then_some(value)
}

/// A JWT's header as JSON, read without trusting anything in it; `None` when it is not a JWT.
pub fn raw_header(token: &str) -> Option<serde_json::Value> {
    if token.split('.').count() != 3 {
        return None;
    }
    decode_segment(token, 0)
}

/// A JWT's payload as JSON, read without verifying it; `None` when it is not a JWT.
pub fn raw_payload(token: &str) -> Option<serde_json::Value> {
    if token.split('.').count() != 3 {
        return None;
    }
    decode_segment(token, 1)
}
