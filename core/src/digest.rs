//! SHA-256 digests as responses and records show them (`sha256:` and 64 hex
//! digits), and the short ids cut from them, so no caller slices a digest
//! string by offsets.

use sha2::{Digest as _, Sha256};

/// A SHA-256 digest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Digest([u8; 32]);

impl Digest {
    pub fn of(bytes: &[u8]) -> Self {
        Self(Sha256::digest(bytes).into())
    }

    /// The digest of everything fed to `hasher`.
    pub fn finish(hasher: Sha256) -> Self {
        Self(hasher.finalize().into())
    }

    /// Parses the `sha256:<64 hex>` form.
    pub fn parse(text: &str) -> Option<Self> {
        let hex = text.strip_prefix("sha256:")?;
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(hex, &mut bytes).ok()?;
        Some(Self(bytes))
    }

    /// The first `n` bytes (at most 32) as lowercase hex: a short id that
    /// names what was digested (decision ids, page tokens).
    pub fn short_hex(&self, n: usize) -> String {
        hex::encode(&self.0[..n.min(32)])
    }
}

impl std::fmt::Display for Digest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_parses_and_shortens() {
        let d = Digest::of(b"abc");
        let text = d.to_string();
        assert_eq!(
            text,
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(Digest::parse(&text), Some(d));
        assert_eq!(d.short_hex(8), "ba7816bf8f01cfea");
        assert_eq!(d.short_hex(8), text[7..23]);
        assert_eq!(Digest::parse("sha256:zz"), None);
        assert_eq!(Digest::parse(&text[7..]), None);
    }
}
