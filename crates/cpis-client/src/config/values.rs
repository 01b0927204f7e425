//! Checking one setting's value: strings, absolute paths, numbers in range, http(s) URLs (plain
//! http to this computer only), FHIR base and broker URLs, and the trust's words and numbers.

use std::path::{Path, PathBuf};

use reqwest::Url;

use super::ConfigError;
use super::files::{Chosen, field_error};
use super::trust::{self, PhoneNumber, TrustConfig};

pub(super) fn trust_config(chosen: &Chosen<'_>) -> Result<TrustConfig, ConfigError> {
    let text = |field: &'static str| -> Result<Option<(String, &Path)>, ConfigError> {
        chosen
            .get(field)
            .map(|(value, path)| Ok((expect_string(value, field, path)?.to_owned(), path)))
            .transpose()
    };
    let checked = |field: &'static str,
                   check: &dyn Fn(&str) -> Result<String, String>|
     -> Result<Option<String>, ConfigError> {
        text(field)?
            .map(|(value, path)| check(&value).map_err(|problem| field_error(field, path, problem)))
            .transpose()
    };
    let phone = |field: &'static str| -> Result<Option<PhoneNumber>, ConfigError> {
        text(field)?
            .map(|(value, path)| {
                PhoneNumber::parse(&value).map_err(|problem| field_error(field, path, problem))
            })
            .transpose()
    };
    let downtime_procedure = match text("trust.downtime_procedure")? {
        Some((value, path)) => trust::downtime_paragraphs(&value)
            .map_err(|problem| field_error("trust.downtime_procedure", path, problem))?,
        None => Vec::new(),
    };
    Ok(TrustConfig {
        organisation_name: checked("trust.organisation_name", &|value| {
            trust::single_line_text(value, trust::ORGANISATION_NAME_MAX_CHARS)
        })?,
        downtime_procedure,
        safeguarding_in_hours_phone: phone("trust.safeguarding_in_hours_phone")?,
        safeguarding_in_hours_times: checked("trust.safeguarding_in_hours_times", &|value| {
            trust::single_line_text(value, trust::HOURS_TEXT_MAX_CHARS)
        })?,
        safeguarding_out_of_hours_phone: phone("trust.safeguarding_out_of_hours_phone")?,
    })
}

pub(super) fn expect_string<'a>(
    value: &'a toml::Value,
    field: &str,
    file: &Path,
) -> Result<&'a str, ConfigError> {
    value
        .as_str()
        .ok_or_else(|| field_error(field, file, "must be a string in quotes"))
}

pub(super) fn absolute_path(
    value: &toml::Value,
    field: &str,
    file: &Path,
) -> Result<PathBuf, ConfigError> {
    let path = PathBuf::from(expect_string(value, field, file)?);
    if path.is_absolute() {
        Ok(path)
    } else {
        Err(field_error(field, file, "must be an absolute path"))
    }
}

pub(super) fn expect_in_range(
    value: &toml::Value,
    field: &str,
    file: &Path,
    range: &std::ops::RangeInclusive<u64>,
) -> Result<u64, ConfigError> {
    let problem = format!(
        "must be a whole number from {} to {}",
        range.start(),
        range.end()
    );
    let number = value
        .as_integer()
        .and_then(|number| u64::try_from(number).ok())
        .ok_or_else(|| field_error(field, file, problem.clone()))?;
    if range.contains(&number) {
        Ok(number)
    } else {
        Err(field_error(field, file, problem))
    }
}

/// Whether `url` names this computer: 127.0.0.0/8, `::1` or `localhost`.
pub fn is_loopback(url: &Url) -> bool {
    let Some(host) = url.host_str() else {
        return false;
    };
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<std::net::IpAddr>() {
        Ok(address) => address.is_loopback(),
        Err(_) => host.eq_ignore_ascii_case("localhost"),
    }
}

fn http_url(
    value: &toml::Value,
    field: &str,
    file: &Path,
    allow_http_loopback: bool,
) -> Result<Url, ConfigError> {
    let text = expect_string(value, field, file)?;
    let url = Url::parse(text).map_err(|_| field_error(field, file, "must be an absolute URL"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(field_error(field, file, "must be an https URL"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(field_error(field, file, "must name a host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(field_error(
            field,
            file,
            "must not contain a user name or password",
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(field_error(
            field,
            file,
            "must not have a query or fragment",
        ));
    }
    if url.scheme() == "http" {
        if !is_loopback(&url) {
            return Err(field_error(
                field,
                file,
                "must be an https URL: plain http is allowed only to this computer (127.0.0.1, ::1 or localhost)",
            ));
        }
        if !allow_http_loopback {
            return Err(field_error(
                field,
                file,
                "uses plain http, which is allowed only with `allow_http_loopback = true` in the [tls] table",
            ));
        }
    }
    Ok(url)
}

/// A base URL (a FHIR base, the broker); a trailing slash is removed so paths can be appended.
pub(super) fn fhir_base_url(
    value: &toml::Value,
    field: &str,
    file: &Path,
    allow_http_loopback: bool,
) -> Result<Url, ConfigError> {
    let mut url = http_url(value, field, file, allow_http_loopback)?;
    let trimmed = url.path().trim_end_matches('/').to_owned();
    url.set_path(&trimmed);
    Ok(url)
}

/// A URL for `base` with `segments` appended as path segments (each percent-encoded).
pub fn join_path(base: &Url, segments: &[&str]) -> Url {
    let mut url = base.clone();
    if let Ok(mut path) = url.path_segments_mut() {
        path.pop_if_empty();
        path.extend(segments);
    }
    url
}
