//! The patient-data log scan. The end-to-end suite runs with `RUST_LOG=trace` and every process
//! it starts (the app and its WebKit processes, `cpis`, the reference service, the seeder, the
//! identity provider, the WebDriver servers) writes its stdout and stderr to files under
//! `target/e2e-artifacts/logs/`. The harness also writes, per seeded database, every synthetic
//! person's NHS number, names and date of birth to `logs/people/`, and the SHA-256 of every
//! opaque token it saw the app hold (the platform's access token, the broker's session handle)
//! to `logs/token-hashes/`. This scan fails if any log holds any of them, or the `eyJ` prefix of
//! a JWT. It prints where (file and line) and what kind, never the value itself.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// What to look for.
#[derive(Debug, Default)]
pub struct Needles {
    nhs_numbers: HashSet<String>,
    /// Lower case.
    family_names: HashSet<String>,
    /// `YYYY-MM-DD`, and the same dates as the app and CLI show them.
    dates_of_birth: HashSet<String>,
    display_dates: Vec<String>,
    /// SHA-256 (lowercase hex) of opaque tokens.
    token_hashes: HashSet<String>,
}

impl Needles {
    /// Add one person.
    pub fn add(&mut self, nhs_number: &str, family_name: &str, date_of_birth: &str) {
        self.nhs_numbers.insert(nhs_number.to_string());
        self.family_names.insert(family_name.to_lowercase());
        if self.dates_of_birth.insert(date_of_birth.to_string())
            && let Ok(date) = time::Date::parse(
                date_of_birth,
                time::macros::format_description!("[year]-[month]-[day]"),
            )
        {
            // As the app and `cpis` show it ("19 August 2013", cpis_domain::display_date), and the
            // banner style "19-Aug-2013" in case anything ever writes it.
            let shown = cpis_domain::display_date(date);
            self.display_dates.push(shown.clone());
            let mut words = shown.split(' ');
            if let (Some(_), Some(month), Some(year)) = (words.next(), words.next(), words.next()) {
                let short = month.get(..3).unwrap_or(month);
                self.display_dates
                    .push(format!("{:02}-{short}-{year}", date.day()));
                self.display_dates
                    .push(format!("{}-{short}-{year}", date.day()));
            }
        }
    }

    /// Add an opaque token by its SHA-256 (lowercase hex).
    pub fn add_token_hash(&mut self, hash: &str) {
        self.token_hashes.insert(hash.trim().to_lowercase());
    }

    /// How many token hashes.
    pub fn tokens(&self) -> usize {
        self.token_hashes.len()
    }

    /// Whether a run of token characters (base64url and friends) of 16 or more in `line` hashes
    /// to a known opaque token.
    fn has_opaque_token(&self, line: &str) -> bool {
        use sha2::Digest as _;
        if self.token_hashes.is_empty() {
            return false;
        }
        line.split(|c: char| !(c.is_ascii_alphanumeric() || "-_.~+/=".contains(c)))
            .filter(|run| run.len() >= 16)
            .any(|run| {
                self.token_hashes
                    .contains(&hex::encode(sha2::Sha256::digest(run.as_bytes())))
            })
    }

    /// How many people.
    pub fn people(&self) -> usize {
        self.nhs_numbers.len()
    }

    /// The kinds of patient data or token in `line`, if any.
    pub fn find(&self, line: &str) -> Vec<&'static str> {
        let mut found = Vec::new();
        if line.contains("eyJ") {
            found.push("token (eyJ)");
        }
        if self.has_opaque_token(line) {
            found.push("opaque token");
        }
        if self.has_nhs_number(line) {
            found.push("NHS number");
        }
        if line
            .split(|c: char| !c.is_alphanumeric())
            .any(|word| !word.is_empty() && self.family_names.contains(&word.to_lowercase()))
        {
            found.push("family name");
        }
        if self.has_date_of_birth(line) {
            found.push("date of birth");
        }
        found
    }

    /// Ten digits of a seeded NHS number, written together or with spaces between groups.
    fn has_nhs_number(&self, line: &str) -> bool {
        let mut digits = String::new();
        let flush = |digits: &mut String| -> bool {
            let hit = digits.len() >= 10
                && (0..=digits.len() - 10)
                    .any(|at| self.nhs_numbers.contains(&digits[at..at + 10]));
            digits.clear();
            hit
        };
        let chars: Vec<char> = line.chars().collect();
        for (index, &character) in chars.iter().enumerate() {
            if character.is_ascii_digit() {
                digits.push(character);
            } else if character == ' '
                && !digits.is_empty()
                && chars.get(index + 1).is_some_and(char::is_ascii_digit)
            {
                // "999 123 4567": a single space between digit groups joins them.
            } else if flush(&mut digits) {
                return true;
            }
        }
        flush(&mut digits)
    }

    /// A seeded date of birth as a date (not the date part of a timestamp: `YYYY-MM-DDT...`),
    /// or as the app shows it.
    fn has_date_of_birth(&self, line: &str) -> bool {
        let bytes = line.as_bytes();
        for start in 0..bytes.len().saturating_sub(9) {
            let candidate = &bytes[start..start + 10];
            let shaped = candidate
                .iter()
                .enumerate()
                .all(|(index, byte)| match index {
                    4 | 7 => *byte == b'-',
                    _ => byte.is_ascii_digit(),
                });
            if !shaped || bytes.get(start + 10) == Some(&b'T') {
                continue;
            }
            if std::str::from_utf8(candidate).is_ok_and(|date| self.dates_of_birth.contains(date)) {
                return true;
            }
        }
        self.display_dates.iter().any(|date| line.contains(date))
    }
}

/// Read every `logs/people/*.ndjson` the harness wrote.
pub fn load_needles(dir: &Path) -> Result<Needles> {
    let mut needles = Needles::default();
    let people = dir.join("people");
    for entry in std::fs::read_dir(&people).with_context(|| {
        format!(
            "reading {} (did the end-to-end tests run?)",
            people.display()
        )
    })? {
        let path = entry?.path();
        let text = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
        for line in text.lines().filter(|line| !line.trim().is_empty()) {
            let person: serde_json::Value = serde_json::from_str(line)
                .with_context(|| format!("a line of {} is not JSON", path.display()))?;
            let field = |name: &str| person[name].as_str().unwrap_or_default().to_string();
            needles.add(
                &field("nhs_number"),
                &field("family_name"),
                &field("date_of_birth"),
            );
        }
    }
    if needles.people() == 0 {
        bail!("no seeded people were recorded in {}", people.display());
    }
    let hashes = dir.join("token-hashes");
    if hashes.is_dir() {
        for entry in std::fs::read_dir(&hashes)? {
            let path = entry?.path();
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            for line in text.lines().filter(|line| !line.trim().is_empty()) {
                needles.add_token_hash(line);
            }
        }
    }
    if needles.tokens() == 0 {
        bail!(
            "no token hashes were recorded in {}: the scan would prove nothing about opaque tokens",
            hashes.display()
        );
    }
    Ok(needles)
}

fn log_files(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let path = entry?.path();
        if path.extension().is_some_and(|extension| extension == "log") && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Every producer whose logs must be there (and, at trace, not empty) for the scan to mean
/// something: the app (through tauri-driver's inherited stderr), `cpis`, the reference service,
/// the token broker and the identity provider.
const MUST_HAVE: [&str; 5] = [
    "app-stderr",
    "cli-stderr",
    "reference-service-stderr",
    "token-broker-stderr",
    "identity-provider-stdout",
];

/// Scan `dir`; fail on any finding, or if a producer left no log.
pub fn run(dir: &Path) -> Result<()> {
    let needles = load_needles(dir)?;
    let files = log_files(dir)?;
    let mut findings = Vec::new();
    let mut bytes_by_producer: std::collections::BTreeMap<String, u64> = Default::default();
    for path in &files {
        let name = path
            .file_name()
            .map(|name| name.to_string_lossy().to_string())
            .unwrap_or_default();
        let producer = MUST_HAVE
            .iter()
            .find(|prefix| name.starts_with(*prefix))
            .map_or("other", |prefix| prefix)
            .to_string();
        let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        *bytes_by_producer.entry(producer).or_default() += raw.len() as u64;
        let text = String::from_utf8_lossy(&raw);
        for (number, line) in text.lines().enumerate() {
            for kind in needles.find(line) {
                findings.push(format!("{name}:{}: {kind}", number + 1));
            }
        }
    }
    eprintln!(
        "log scan: {} log files, {} seeded people, {} token hashes; bytes by producer: {}",
        files.len(),
        needles.people(),
        needles.tokens(),
        bytes_by_producer
            .iter()
            .map(|(producer, bytes)| format!("{producer} {bytes}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    for producer in MUST_HAVE {
        if bytes_by_producer.get(producer).copied().unwrap_or(0) == 0 {
            bail!("log scan: no log from {producer}: the scan would prove nothing about it");
        }
    }
    if !findings.is_empty() {
        for finding in findings.iter().take(50) {
            eprintln!("  {finding}");
        }
        bail!(
            "log scan: {} lines in the logs under {} hold patient data or a token (first 50 above)",
            findings.len(),
            dir.display()
        );
    }
    eprintln!("log scan: no patient data and no token in any log");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn needles() -> Needles {
        use sha2::Digest as _;
        let mut needles = Needles::default();
        needles.add("9991840796", "Ravington", "2013-08-19");
        needles.add_token_hash(&hex::encode(sha2::Sha256::digest(
            b"Qm9yZWRfb3BhcXVlX3Rva2VuX2Zvcl90ZXN0cw",
        )));
        needles
    }

    #[test]
    fn finds_each_kind_of_patient_data_and_tokens() {
        let needles = needles();
        for (line, kind) in [
            ("lookup for 9991840796 done", "NHS number"),
            ("nhs=999 184 0796", "NHS number"),
            ("x9991840796y", "NHS number"),
            ("patient RAVINGTON, Aro", "family name"),
            ("name=ravington", "family name"),
            ("\"birthDate\":\"2013-08-19\"", "date of birth"),
            ("born 19-Aug-2013", "date of birth"),
            ("born 19 August 2013", "date of birth"),
            ("Authorization: Bearer eyJhbGciOi", "token (eyJ)"),
            (
                "authorization=Bearer Qm9yZWRfb3BhcXVlX3Rva2VuX2Zvcl90ZXN0cw done",
                "opaque token",
            ),
        ] {
            assert!(needles.find(line).contains(&kind), "{line}: {kind}");
        }
    }

    #[test]
    fn leaves_ordinary_log_lines_alone() {
        let needles = needles();
        for line in [
            "2013-08-19T10:00:00Z INFO request route=/cpis/FHIR/R4/CareTeam status=200",
            "trace_id=37fa69d6-2693-48f4-9847-6cbd2a1d9d06 latency_us=3241",
            "9991840797 is another number",
            "Ravingtonshire County Council (synthetic)",
            "pid 999184079",
            "token=Qm9yZWRfb3BhcXVlX3Rva2VuX2Zvcl90ZXN0cX",
        ] {
            assert!(needles.find(line).is_empty(), "{line}");
        }
    }
}
