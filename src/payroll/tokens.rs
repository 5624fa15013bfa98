//! Confirmation tokens: random, shown once, stored only as their SHA-256.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};

/// A confirmation token: 32 random bytes, base64url. Returns it and its SHA-256.
pub fn new_token(rng: &mut impl RngCore) -> (String, Vec<u8>) {
    let mut bytes = [0u8; 32];
    rng.fill_bytes(&mut bytes);
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = token_hash(&token);
    (token, hash)
}

/// The SHA-256 a token is stored and looked up by.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_43_url_safe_characters_and_differ() {
        let mut rng = rand::thread_rng();
        let (a, hash_a) = new_token(&mut rng);
        let (b, _) = new_token(&mut rng);
        assert_eq!(a.len(), 43);
        assert!(a
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_ne!(a, b);
        assert_eq!(hash_a, token_hash(&a));
    }

    #[test]
    fn tokens_are_base64url_without_padding_as_in_the_rfc_vectors() {
        assert_eq!(URL_SAFE_NO_PAD.encode(b""), "");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"f"), "Zg");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"fo"), "Zm8");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foo"), "Zm9v");
        assert_eq!(URL_SAFE_NO_PAD.encode(b"foobar"), "Zm9vYmFy");
        assert_eq!(URL_SAFE_NO_PAD.encode([0xfb, 0xff]), "-_8");
    }
}
