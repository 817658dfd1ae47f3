use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// A paper's stable id: `p` followed by 12 lowercase hex digits.
///
/// Derived from the paper's strongest identity key when it is first stored
/// (DOI, then arXiv id, then normalised title), so the same paper ingested
/// into two projects gets the same id and citations stay portable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PaperId(String);

/// A passage's stable id: `<paper-id>#<n>` for the n-th sentence-level
/// passage of the abstract (from 0), `<paper-id>#v<version>.<n>` for the
/// n-th passage of version `version` of the paper's full text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PassageId(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{text}` is not a valid {kind} id (expected {expected})")]
pub struct InvalidId {
    text: String,
    kind: &'static str,
    expected: &'static str,
}

const PAPER_HEX_DIGITS: usize = 12;

impl PaperId {
    /// The id for an identity key such as `doi:10.1/x` or `title:some title`.
    pub fn derive(identity_key: &str) -> PaperId {
        Self::derive_with_salt(identity_key, 0)
    }

    /// A different id for the same key: used only if the first choice is
    /// already taken by another paper (a hash collision).
    pub fn derive_with_salt(identity_key: &str, salt: u32) -> PaperId {
        let mut hasher = Sha256::new();
        hasher.update(identity_key.as_bytes());
        if salt > 0 {
            hasher.update(salt.to_le_bytes());
        }
        let digest = hasher.finalize();
        let mut id = String::with_capacity(PAPER_HEX_DIGITS + 1);
        id.push('p');
        for byte in digest.iter().take(PAPER_HEX_DIGITS / 2) {
            id.push_str(&format!("{byte:02x}"));
        }
        PaperId(id)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id of this paper's `ordinal`-th passage.
    pub fn passage(&self, ordinal: u32) -> PassageId {
        PassageId(format!("{}#{ordinal}", self.0))
    }

    /// The id of the `n`-th passage of version `version` (from 1) of this
    /// paper's full text. A new version gets new ids, so a passage a run
    /// cited is never rewritten under it.
    pub fn fulltext_passage(&self, version: u32, n: u32) -> PassageId {
        PassageId(format!("{}#v{version}.{n}", self.0))
    }
}

impl FromStr for PaperId {
    type Err = InvalidId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let valid = text.len() == PAPER_HEX_DIGITS + 1
            && text.starts_with('p')
            && text[1..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        if valid {
            Ok(PaperId(text.to_owned()))
        } else {
            Err(InvalidId {
                text: text.to_owned(),
                kind: "paper",
                expected: "`p` and 12 hex digits, like p3f9a2c1d7e04",
            })
        }
    }
}

impl PassageId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn paper_id(&self) -> PaperId {
        // Validated on construction: the part before `#` is a paper id.
        let (paper, _) = self.0.split_once('#').unwrap_or((&self.0, ""));
        PaperId(paper.to_owned())
    }

    /// Where the passage sorts among its paper's passages: abstract
    /// passages first, then each full-text version in order.
    pub fn ordinal(&self) -> u64 {
        let (_, tail) = self.0.split_once('#').unwrap_or((&self.0, "0"));
        match parse_tail(tail) {
            Some(Tail::Abstract(n)) => u64::from(n),
            Some(Tail::FullText(version, n)) => u64::from(version) * FULLTEXT_ORDINAL_STRIDE + u64::from(n),
            None => 0,
        }
    }

    /// The full-text version this passage belongs to; `None` for an
    /// abstract passage.
    pub fn fulltext_version(&self) -> Option<u32> {
        let (_, tail) = self.0.split_once('#')?;
        match parse_tail(tail)? {
            Tail::FullText(version, _) => Some(version),
            Tail::Abstract(_) => None,
        }
    }
}

impl FromStr for PassageId {
    type Err = InvalidId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidId {
            text: text.to_owned(),
            kind: "passage",
            expected: "`<paper id>#<n>`, like p3f9a2c1d7e04#0",
        };
        let (paper, tail) = text.split_once('#').ok_or_else(invalid)?;
        let paper: PaperId = paper.parse().map_err(|_| invalid())?;
        match parse_tail(tail).ok_or_else(invalid)? {
            Tail::Abstract(n) => Ok(paper.passage(n)),
            Tail::FullText(version, n) => Ok(paper.fulltext_passage(version, n)),
        }
    }
}

/// Full-text ordinals sort after every abstract passage: version v's n-th
/// passage sorts at `v * STRIDE + n`.
pub const FULLTEXT_ORDINAL_STRIDE: u64 = 1 << 32;

enum Tail {
    Abstract(u32),
    FullText(u32, u32),
}

/// `17` or `v2.17`; digits only, so `+1` and `-1` are refused.
fn parse_tail(tail: &str) -> Option<Tail> {
    let number = |text: &str| -> Option<u32> {
        if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        text.parse().ok()
    };
    match tail.strip_prefix('v') {
        Some(rest) => {
            let (version, n) = rest.split_once('.')?;
            let version = number(version).filter(|v| *v >= 1)?;
            Some(Tail::FullText(version, number(n)?))
        }
        None => Some(Tail::Abstract(number(tail)?)),
    }
}

macro_rules! string_conversions {
    ($ty:ty) => {
        impl TryFrom<String> for $ty {
            type Error = InvalidId;
            fn try_from(text: String) -> Result<Self, Self::Error> {
                text.parse()
            }
        }
        impl From<$ty> for String {
            fn from(id: $ty) -> String {
                id.0
            }
        }
        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}
string_conversions!(PaperId);
string_conversions!(PassageId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn derived_ids_are_stable_and_parse_back() {
        let id = PaperId::derive("doi:10.1000/xyz");
        assert_eq!(id, PaperId::derive("doi:10.1000/xyz"));
        assert_ne!(id, PaperId::derive("doi:10.1000/xyz2"));
        assert_ne!(id, PaperId::derive_with_salt("doi:10.1000/xyz", 1));
        assert_eq!(id.as_str().parse::<PaperId>(), Ok(id.clone()));
        assert_eq!(id.as_str().len(), 13);
    }

    #[test]
    fn passage_ids_round_trip() {
        let paper = PaperId::derive("title:x");
        let passage = paper.passage(3);
        assert_eq!(passage.as_str(), format!("{paper}#3"));
        let parsed: PassageId = passage.as_str().parse().expect("valid passage id");
        assert_eq!(parsed.paper_id(), paper);
        assert_eq!(parsed.ordinal(), 3);
        assert_eq!(parsed.fulltext_version(), None);
    }

    #[test]
    fn fulltext_passage_ids_round_trip_and_sort_after_the_abstract() {
        let paper = PaperId::derive("title:x");
        let passage = paper.fulltext_passage(2, 17);
        assert_eq!(passage.as_str(), format!("{paper}#v2.17"));
        let parsed: PassageId = passage.as_str().parse().expect("valid passage id");
        assert_eq!(parsed, passage);
        assert_eq!(parsed.paper_id(), paper);
        assert_eq!(parsed.fulltext_version(), Some(2));
        assert!(paper.passage(u32::MAX).ordinal() < paper.fulltext_passage(1, 0).ordinal());
        assert!(paper.fulltext_passage(1, u32::MAX).ordinal() < paper.fulltext_passage(2, 0).ordinal());
    }

    #[test]
    fn malformed_ids_are_rejected() {
        assert!("p123".parse::<PaperId>().is_err());
        assert!("x0123456789ab".parse::<PaperId>().is_err());
        assert!("p0123456789AB".parse::<PaperId>().is_err());
        assert!("p0123456789ab".parse::<PassageId>().is_err());
        assert!("p0123456789ab#x".parse::<PassageId>().is_err());
        assert!("p0123456789ab#-1".parse::<PassageId>().is_err());
        assert!("p0123456789ab#+1".parse::<PassageId>().is_err());
        assert!("p0123456789ab#v0.1".parse::<PassageId>().is_err());
        assert!("p0123456789ab#v1".parse::<PassageId>().is_err());
        assert!("p0123456789ab#v1.".parse::<PassageId>().is_err());
        assert!(serde_json::from_str::<PaperId>("\"nope\"").is_err());
    }
}
