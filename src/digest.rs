//! Content digests in the go-digest `algo:hex` form.
//!
//! A [`Digest`] can only be built from a string that passed validation
//! (known algorithm, exact length, lowercase hex), so every digest that
//! reaches a path or a URL is safe to use there.

use std::fmt;

use sequoia_openpgp::types::HashAlgorithm;

/// Digest algorithms the reference implementation knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Algorithm {
    /// `sha256`, 64 hex digits; what manifests are signed with.
    Sha256,
    /// `sha384`, 96 hex digits.
    Sha384,
    /// `sha512`, 128 hex digits.
    Sha512,
}

impl Algorithm {
    /// The algorithm's name as written before the colon.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha256 => "sha256",
            Algorithm::Sha384 => "sha384",
            Algorithm::Sha512 => "sha512",
        }
    }

    /// Length of the hex-encoded value.
    pub fn hex_len(self) -> usize {
        match self {
            Algorithm::Sha256 => 64,
            Algorithm::Sha384 => 96,
            Algorithm::Sha512 => 128,
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        match name {
            "sha256" => Some(Algorithm::Sha256),
            "sha384" => Some(Algorithm::Sha384),
            "sha512" => Some(Algorithm::Sha512),
            _ => None,
        }
    }
}

/// Why a digest string is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DigestError {
    /// Not of the form `ALGORITHM:HEX`; the input.
    #[error("invalid digest {0:?}: expected ALGORITHM:HEX, e.g. sha256:<64 hex digits>")]
    Format(String),
    /// An algorithm other than those of [`Algorithm`]; the input.
    #[error("invalid digest {0:?}: unsupported algorithm (known: sha256, sha384, sha512)")]
    Algorithm(String),
    /// The value is not lowercase hex of the algorithm's length.
    #[error("invalid digest {input:?}: a {algo} value has {expected} lowercase hex digits")]
    Encoding {
        /// The whole input.
        input: String,
        /// The algorithm's name, e.g. `sha256`.
        algo: &'static str,
        /// How many hex digits that algorithm's value has.
        expected: usize,
    },
}

/// A validated `algo:hex` digest.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Digest {
    algo: Algorithm,
    hex: String,
}

impl Digest {
    /// Parse and validate a digest string like go-digest's `Parse` + `Validate`.
    pub fn parse(s: &str) -> Result<Digest, DigestError> {
        let Some((algo, hex)) = s.split_once(':') else {
            return Err(DigestError::Format(s.to_owned()));
        };
        if algo.is_empty() || hex.is_empty() {
            return Err(DigestError::Format(s.to_owned()));
        }
        // go-digest's algorithm grammar; an unknown but well-formed name is
        // reported as unsupported, anything else as a format error.
        let well_formed = algo
            .split(['+', '.', '_', '-'])
            .all(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit()));
        if !well_formed {
            return Err(DigestError::Format(s.to_owned()));
        }
        let algo = Algorithm::from_name(algo).ok_or_else(|| DigestError::Algorithm(s.to_owned()))?;
        if hex.len() != algo.hex_len() || !hex.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            return Err(DigestError::Encoding {
                input: s.to_owned(),
                algo: algo.name(),
                expected: algo.hex_len(),
            });
        }
        Ok(Digest {
            algo,
            hex: hex.to_owned(),
        })
    }

    /// sha256 of `bytes`.
    pub fn sha256(bytes: &[u8]) -> Digest {
        Digest {
            algo: Algorithm::Sha256,
            hex: to_hex(&sha256(bytes)),
        }
    }

    /// The algorithm, from the part before the colon.
    pub fn algorithm(&self) -> Algorithm {
        self.algo
    }

    /// The hex-encoded value (validated lowercase hex of the algorithm's length).
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.algo.name(), self.hex)
    }
}

impl std::str::FromStr for Digest {
    type Err = DigestError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Digest::parse(s)
    }
}

/// Lowercase hex encoding.
pub fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(HEX[(b >> 4) as usize] as char);
        out.push(HEX[(b & 0xf) as usize] as char);
    }
    out
}

/// SHA-256 through the OpenPGP backend (nettle by default): one hashing
/// implementation for manifests and signatures, whose CPU features the
/// backend has already probed at start-up (a second probe, `cpuid` traps on
/// a VM, cost a one-shot verify about 20 µs; docs/performance.md).
fn sha256(bytes: &[u8]) -> [u8; 32] {
    let mut ctx = HashAlgorithm::SHA256
        .context()
        .expect("every OpenPGP backend implements SHA-256")
        .for_digest();
    ctx.update(bytes);
    let mut out = [0; 32];
    ctx.digest(&mut out).expect("a SHA-256 digest fits 32 bytes");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &str = "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55";

    #[test]
    fn parses_and_displays_valid_digest() {
        let d = Digest::parse(GOOD).unwrap();
        assert_eq!(d.algorithm(), Algorithm::Sha256);
        assert_eq!(d.to_string(), GOOD);
    }

    #[test]
    fn sha384_and_sha512_lengths() {
        assert!(Digest::parse(&format!("sha384:{}", "a".repeat(96))).is_ok());
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(128))).is_ok());
        assert!(Digest::parse(&format!("sha512:{}", "0".repeat(64))).is_err());
    }

    #[test]
    fn rejects_bad_digests() {
        for bad in [
            "",
            "sha256",
            "sha256:",
            ":abc",
            "sha256:../..",
            "sha256:20BF21ED457B390829CDBEEC8795A7BEA1626991FDA603E0D01B4E7F60427E55",
            "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e5",
            "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e555",
            "md5:d41d8cd98f00b204e9800998ecf8427e",
            "SHA256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55",
            "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e5g",
            "sha256:20bf21ed457b390829cdbeec8795a7bea1626991fda603e0d01b4e7f60427e55/x",
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad:?} must be rejected");
        }
    }

    #[test]
    fn sha256_of_empty_input() {
        assert_eq!(
            Digest::sha256(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
