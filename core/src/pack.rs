//! What every rule or policy pack shares: load errors naming the file and
//! rule, confidence marks, half-open effective dates, and the reader of a
//! pack directory.

use std::path::Path;

use serde::Deserialize;
use time::Date;

use crate::dates;

/// A pack that failed validation, with the file and the rule it failed on.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}: {rule}: {message}")]
pub struct PackError {
    pub file: String,
    pub rule: String,
    pub message: String,
}

impl PackError {
    pub fn new(
        file: impl Into<String>,
        rule: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            rule: rule.into(),
            message: message.into(),
        }
    }
}

/// One pack file: its name (for errors and digests) and its text.
#[derive(Debug, Clone)]
pub struct Source {
    pub file: String,
    pub text: String,
}

impl Source {
    /// `(file name, contents)` pairs, as the packs compiled into a binary are listed.
    pub fn from_pairs(pairs: &[(&str, &str)]) -> Vec<Self> {
        pairs
            .iter()
            .map(|(file, text)| Self {
                file: (*file).into(),
                text: (*text).into(),
            })
            .collect()
    }
}

/// Reads every `*.toml` file of a pack directory, in file-name order, and
/// splits off the one named `head` (the vocabulary or the common pack), which
/// must be there.
pub fn read_dir(dir: &Path, head: &str) -> Result<(Source, Vec<Source>), PackError> {
    let io = |e: std::io::Error| PackError::new(dir.display().to_string(), "-", e.to_string());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    let mut first = None;
    let mut rest = Vec::new();
    for e in entries {
        let path = e.path();
        if path.extension().and_then(|x| x.to_str()) != Some("toml") {
            continue;
        }
        let file = e.file_name().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(&path)
            .map_err(|err| PackError::new(&file, "-", err.to_string()))?;
        let src = Source {
            file: file.clone(),
            text,
        };
        if file == head {
            first = Some(src)
        } else {
            rest.push(src)
        }
    }
    let first = first
        .ok_or_else(|| PackError::new(dir.display().to_string(), "-", format!("no {head}")))?;
    Ok((first, rest))
}

/// How sure the pack authors are of a fact (the notes mark uncertain ones `[?]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Confidence {
    #[default]
    High,
    Low,
}

impl Confidence {
    pub fn is_low(self) -> bool {
        self == Confidence::Low
    }
}

/// Effective dates `[from, until)`: in force from `from`, no longer on `until`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Validity {
    pub from: Date,
    pub until: Option<Date>,
}

impl Validity {
    /// Parses `YYYY-MM-DD` bounds, refusing an empty or inverted range.
    pub fn parse(from: &str, until: Option<&str>) -> Result<Self, String> {
        let f = dates::parse(from).map_err(|m| format!("from: {m}"))?;
        let u = match until {
            Some(u) => Some(dates::parse(u).map_err(|m| format!("until: {m}"))?),
            None => None,
        };
        if let Some(u) = u
            && u <= f
        {
            return Err(format!(
                "inverted date range: from {from} is not before until {}",
                until.unwrap_or_default()
            ));
        }
        Ok(Self { from: f, until: u })
    }

    pub fn contains(&self, on: Date) -> bool {
        self.from <= on && self.until.is_none_or(|u| on < u)
    }

    pub fn overlaps(&self, other: &Validity) -> bool {
        self.from < other.until.unwrap_or(Date::MAX) && other.from < self.until.unwrap_or(Date::MAX)
    }

    /// `until` as text, empty when open-ended.
    pub fn until_text(&self) -> String {
        self.until.map(dates::format).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validity_is_half_open_and_refuses_inverted_ranges() {
        let v = Validity::parse("2019-07-04", Some("2023-03-23")).unwrap();
        assert!(!v.contains(dates::parse("2019-07-03").unwrap()));
        assert!(v.contains(dates::parse("2019-07-04").unwrap()));
        assert!(v.contains(dates::parse("2023-03-22").unwrap()));
        assert!(!v.contains(dates::parse("2023-03-23").unwrap()));
        assert!(
            Validity::parse("2020-01-01", Some("2020-01-01"))
                .unwrap_err()
                .contains("inverted")
        );
        let open = Validity::parse("2023-03-23", None).unwrap();
        assert!(!v.overlaps(&open));
        assert!(open.overlaps(&Validity::parse("2024-01-01", Some("2024-02-01")).unwrap()));
    }
}
