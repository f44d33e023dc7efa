//! VAPID (RFC 8292): the server's P-256 key pair and the `Authorization: vapid t=…, k=…` header
//! each push request carries: a JWT (ES256) for the push service's origin, with an expiry and
//! a contact (`sub`), and the public key the browser subscribed with.

use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use base64::Engine as _;
use p256::ecdsa::signature::Signer as _;
use p256::ecdsa::{Signature, SigningKey};
use p256::elliptic_curve::sec1::ToEncodedPoint as _;

/// How long a token is good for (RFC 8292 allows at most 24 hours).
const TOKEN_SECS: u64 = 12 * 60 * 60;

pub struct Vapid {
    key: SigningKey,
    /// The uncompressed public point (65 bytes), base64url without padding: what
    /// `PushManager.subscribe({applicationServerKey})` takes and the `k=` of the header.
    public: String,
}

impl Vapid {
    /// A new private key (32 bytes), to be kept.
    pub fn generate() -> Vec<u8> {
        // A random 32-byte string is a valid scalar except with negligible odds (zero or not
        // below the group order): try again then.
        for _ in 0..64 {
            let bytes: [u8; 32] = rand::random();
            if p256::SecretKey::from_slice(&bytes).is_ok() {
                return bytes.to_vec();
            }
        }
        unreachable!("64 random 32-byte strings were all invalid P-256 scalars")
    }

    /// The key pair of a kept private key.
    pub fn from_private(bytes: &[u8]) -> Result<Vapid, String> {
        let secret = p256::SecretKey::from_slice(bytes)
            .map_err(|_| "the stored VAPID private key is not a P-256 key".to_string())?;
        let point = secret.public_key().to_encoded_point(false);
        Ok(Vapid {
            key: SigningKey::from(secret),
            public: B64.encode(point.as_bytes()),
        })
    }

    pub fn public_key(&self) -> &str {
        &self.public
    }

    /// The header for a request to `origin` (`https://push.example.net`), signed now.
    pub fn authorization(&self, origin: &str, subject: &str, now_secs: u64) -> String {
        let header = B64.encode(br#"{"typ":"JWT","alg":"ES256"}"#);
        let claims = serde_json::json!({
            "aud": origin,
            "exp": now_secs + TOKEN_SECS,
            "sub": subject,
        });
        let claims = B64.encode(claims.to_string());
        let input = format!("{header}.{claims}");
        let signature: Signature = self.key.sign(input.as_bytes());
        let signature = B64.encode(signature.to_bytes());
        format!("vapid t={input}.{signature}, k={}", self.public)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use p256::ecdsa::signature::Verifier as _;
    use p256::ecdsa::VerifyingKey;

    #[test]
    fn the_token_verifies_against_the_public_key_and_names_the_origin() {
        let v = Vapid::from_private(&Vapid::generate()).unwrap();
        let h = v.authorization("https://push.example.net", "mailto:a@b.example", 1000);
        let rest = h.strip_prefix("vapid t=").unwrap();
        let (token, k) = rest.split_once(", k=").unwrap();
        assert_eq!(k, v.public_key());
        let (input, sig) = token.rsplit_once('.').unwrap();
        let point = B64.decode(k).unwrap();
        assert_eq!(point.len(), 65);
        let key = VerifyingKey::from_sec1_bytes(&point).unwrap();
        let sig = Signature::from_slice(&B64.decode(sig).unwrap()).unwrap();
        key.verify(input.as_bytes(), &sig).unwrap();
        let claims = input.split('.').nth(1).unwrap();
        let claims: serde_json::Value =
            serde_json::from_slice(&B64.decode(claims).unwrap()).unwrap();
        assert_eq!(claims["aud"], "https://push.example.net");
        assert_eq!(claims["sub"], "mailto:a@b.example");
        assert_eq!(claims["exp"], 1000 + TOKEN_SECS);
    }
}
