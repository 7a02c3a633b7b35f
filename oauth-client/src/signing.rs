//! The one way this crate signs a JWS and checks the signature of one it receives: a key
//! parsed once, on the crypto backend the cargo features chose — aws-lc-rs (`aws-lc`, what the
//! default `rustls` feature compiles anyway) or the RustCrypto crates through jsonwebtoken's
//! provider (`rust-crypto`).
//!
//! Each backend is called explicitly: nothing here installs or reads a process-wide provider
//! (jsonwebtoken's or rustls'), and on aws-lc-rs no jsonwebtoken backend feature is turned on,
//! so a host program's own use of jsonwebtoken behaves as it did without this crate.
//! jsonwebtoken remains the JOSE library for keys (PEM, JWK) and headers.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::{Map, Value};

#[cfg(not(any(feature = "rust-crypto", feature = "aws-lc")))]
compile_error!(
    "oauth-client's `jwt` feature signs with a crypto backend: enable `aws-lc` or `rust-crypto` \
     (the TLS features `rustls` and `native-tls` enable one)"
);

/// Why a key could not be used, or a signature not be made (the key itself is never named).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub(crate) struct SigningError(&'static str);

#[cfg(feature = "dpop")]
impl SigningError {
    /// A shared secret where a key pair was needed.
    pub(crate) const NOT_ASYMMETRIC: SigningError =
        SigningError("the key is a shared secret, not a key pair");
}

/// A new private key for `algorithm` (ES256 or EdDSA) as PKCS#8 DER, from the operating
/// system's random source.
#[cfg(feature = "dpop")]
pub(crate) fn generate_pkcs8(algorithm: Algorithm) -> Result<Vec<u8>, SigningError> {
    backend::generate_pkcs8(algorithm)
}

/// A private key, parsed once, that signs JWS for one algorithm.
pub(crate) struct JwsKey {
    algorithm: Algorithm,
    signer: backend::Signer,
    /// The public half as a JWK (RFC 7517), for a DPoP proof's header; `None` for HMAC.
    /// Derived whatever the features, as the key is parsed anyway; read with `dpop`.
    #[cfg_attr(not(feature = "dpop"), allow(dead_code))]
    public_jwk: Option<Map<String, Value>>,
}

impl JwsKey {
    /// Parses `key` (as jsonwebtoken's PEM and DER constructors left it) for `algorithm`.
    pub(crate) fn new(algorithm: Algorithm, key: &EncodingKey) -> Result<Self, SigningError> {
        let (signer, public_jwk) = backend::Signer::new(algorithm, key)?;
        Ok(JwsKey { algorithm, signer, public_jwk })
    }

    /// An HMAC key (`HS256`, `HS384`, `HS512`): any secret will do.
    pub(crate) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Self {
        JwsKey { algorithm, signer: backend::Signer::hmac(algorithm, secret), public_jwk: None }
    }

    pub(crate) fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The public key as a JWK with only its required members (`kty`, `crv`, `x`, `y`, `n`,
    /// `e`), the form RFC 7638 thumbprints hash.
    pub(crate) fn public_jwk(&self) -> Option<&Map<String, Value>> {
        self.public_jwk.as_ref()
    }

    /// The compact JWS of `claims` after the already encoded protected header `header_b64`.
    pub(crate) fn sign_compact(
        &self,
        header_b64: &str,
        claims: &impl serde::Serialize,
    ) -> Result<String, SigningError> {
        let claims = serde_json::to_vec(claims).map_err(|_| SigningError("the claims do not serialize"))?;
        let mut jws = String::with_capacity(header_b64.len() + claims.len() * 4 / 3 + 350);
        jws.push_str(header_b64);
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(&claims, &mut jws);
        let signature = self.signer.sign(jws.as_bytes())?;
        jws.push('.');
        URL_SAFE_NO_PAD.encode_string(signature, &mut jws);
        Ok(jws)
    }
}

/// The base64url of a JOSE header.
pub(crate) fn encode_header(header: &Map<String, Value>) -> String {
    // A `Map` of strings and JSON values always serializes.
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(header).unwrap_or_default())
}

/// The JWK thumbprint of a public JWK (RFC 7638, SHA-256, base64url): the hash of its
/// required members in lexicographic order, without whitespace — what `public_jwk` holds.
#[cfg(feature = "dpop")]
pub(crate) fn thumbprint(public_jwk: &Map<String, Value>) -> String {
    use sha2::Digest as _;
    // serde_json's `Map` is ordered by key unless `preserve_order` is on; sort to be sure.
    let mut members: Vec<(&String, &Value)> = public_jwk.iter().collect();
    members.sort_by(|a, b| a.0.cmp(b.0));
    let canonical: Map<String, Value> = members.into_iter().map(|(k, v)| (k.clone(), v.clone())).collect();
    let json = serde_json::to_vec(&canonical).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(sha2::Sha256::digest(json))
}

/// Whether `signature` is `algorithm`'s signature of `message` under `key`.
#[cfg(feature = "oidc")]
pub(crate) fn verify(
    algorithm: Algorithm,
    key: &jsonwebtoken::DecodingKey,
    message: &[u8],
    signature: &[u8],
) -> bool {
    backend::verify(algorithm, key, message, signature)
}

fn b64(bytes: &[u8]) -> Value {
    Value::String(URL_SAFE_NO_PAD.encode(bytes))
}

#[cfg(feature = "aws-lc")]
mod backend {
    //! aws-lc-rs, called directly.

    use aws_lc_rs::signature::{self as sig, KeyPair as _};
    use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};
    use serde_json::{Map, Value};

    use super::{SigningError, b64};

    pub(super) enum Signer {
        Ecdsa(sig::EcdsaKeyPair),
        Ed25519(sig::Ed25519KeyPair),
        Rsa(sig::RsaKeyPair, &'static dyn sig::RsaEncoding),
        // aws-lc's HMAC key holds its whole hashing state: boxed to keep the others small.
        Hmac(Box<aws_lc_rs::hmac::Key>),
    }

    impl Signer {
        pub(super) fn new(
            algorithm: Algorithm,
            key: &EncodingKey,
        ) -> Result<(Self, Option<Map<String, Value>>), SigningError> {
            let der = key.as_bytes();
            let wrong_family = SigningError("the key does not fit the algorithm");
            match algorithm {
                Algorithm::ES256 | Algorithm::ES384 => {
                    if key.family() != AlgorithmFamily::Ec {
                        return Err(wrong_family);
                    }
                    let (signing, crv, half) = if algorithm == Algorithm::ES256 {
                        (&sig::ECDSA_P256_SHA256_FIXED_SIGNING, "P-256", 32)
                    } else {
                        (&sig::ECDSA_P384_SHA384_FIXED_SIGNING, "P-384", 48)
                    };
                    let pair = sig::EcdsaKeyPair::from_pkcs8(signing, der)
                        .map_err(|_| SigningError("not an EC private key of that curve in PKCS#8"))?;
                    // The uncompressed point: 0x04, x, y.
                    let point = pair.public_key().as_ref();
                    let (x, y) = point[1..].split_at(half);
                    let jwk = jwk([("crv", crv.into()), ("kty", "EC".into()), ("x", b64(x)), ("y", b64(y))]);
                    Ok((Signer::Ecdsa(pair), Some(jwk)))
                }
                Algorithm::EdDSA => {
                    if key.family() != AlgorithmFamily::Ed {
                        return Err(wrong_family);
                    }
                    let pair = sig::Ed25519KeyPair::from_pkcs8_maybe_unchecked(der)
                        .map_err(|_| SigningError("not an Ed25519 private key in PKCS#8"))?;
                    let x = b64(pair.public_key().as_ref());
                    let jwk = jwk([("crv", "Ed25519".into()), ("kty", "OKP".into()), ("x", x)]);
                    Ok((Signer::Ed25519(pair), Some(jwk)))
                }
                Algorithm::RS256
                | Algorithm::RS384
                | Algorithm::RS512
                | Algorithm::PS256
                | Algorithm::PS384
                | Algorithm::PS512 => {
                    if key.family() != AlgorithmFamily::Rsa {
                        return Err(wrong_family);
                    }
                    let pair = sig::RsaKeyPair::from_pkcs8(der)
                        .or_else(|_| sig::RsaKeyPair::from_der(der))
                        .map_err(|_| {
                        SigningError("not an RSA private key (PKCS#1 or PKCS#8) of 2048 bits or more")
                    })?;
                    let padding: &'static dyn sig::RsaEncoding = match algorithm {
                        Algorithm::RS256 => &sig::RSA_PKCS1_SHA256,
                        Algorithm::RS384 => &sig::RSA_PKCS1_SHA384,
                        Algorithm::RS512 => &sig::RSA_PKCS1_SHA512,
                        Algorithm::PS256 => &sig::RSA_PSS_SHA256,
                        Algorithm::PS384 => &sig::RSA_PSS_SHA384,
                        _ => &sig::RSA_PSS_SHA512,
                    };
                    let public = pair.public_key();
                    let jwk = jwk([
                        ("e", b64(public.exponent().big_endian_without_leading_zero())),
                        ("kty", "RSA".into()),
                        ("n", b64(public.modulus().big_endian_without_leading_zero())),
                    ]);
                    Ok((Signer::Rsa(pair, padding), Some(jwk)))
                }
                Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512 => {
                    if key.family() != AlgorithmFamily::Hmac {
                        return Err(wrong_family);
                    }
                    Ok((Signer::hmac(algorithm, der), None))
                }
                _ => Err(SigningError("this algorithm is not supported for signing")),
            }
        }

        pub(super) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Self {
            Signer::Hmac(Box::new(aws_lc_rs::hmac::Key::new(hmac_algorithm(algorithm), secret)))
        }

        pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
            let failed = |_| SigningError("the crypto library could not sign");
            let rng = aws_lc_rs::rand::SystemRandom::new();
            Ok(match self {
                Signer::Ecdsa(pair) => pair.sign(&rng, message).map_err(failed)?.as_ref().to_vec(),
                Signer::Ed25519(pair) => pair.sign(message).as_ref().to_vec(),
                Signer::Rsa(pair, padding) => {
                    let mut signature = vec![0; pair.public_modulus_len()];
                    pair.sign(*padding, &rng, message, &mut signature).map_err(failed)?;
                    signature
                }
                Signer::Hmac(key) => aws_lc_rs::hmac::sign(key, message).as_ref().to_vec(),
            })
        }
    }

    #[cfg(feature = "dpop")]
    pub(super) fn generate_pkcs8(algorithm: Algorithm) -> Result<Vec<u8>, SigningError> {
        let failed = |_| SigningError("the crypto library could not generate a key");
        let document = match algorithm {
            Algorithm::EdDSA => sig::Ed25519KeyPair::generate().and_then(|pair| pair.to_pkcs8v1()),
            _ => sig::EcdsaKeyPair::generate(&sig::ECDSA_P256_SHA256_FIXED_SIGNING)
                .and_then(|pair| pair.to_pkcs8v1()),
        }
        .map_err(failed)?;
        Ok(document.as_ref().to_vec())
    }

    fn jwk<const N: usize>(members: [(&str, Value); N]) -> Map<String, Value> {
        members.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
    }

    fn hmac_algorithm(algorithm: Algorithm) -> aws_lc_rs::hmac::Algorithm {
        match algorithm {
            Algorithm::HS384 => aws_lc_rs::hmac::HMAC_SHA384,
            Algorithm::HS512 => aws_lc_rs::hmac::HMAC_SHA512,
            _ => aws_lc_rs::hmac::HMAC_SHA256,
        }
    }

    #[cfg(feature = "oidc")]
    pub(super) fn verify(
        algorithm: Algorithm,
        key: &jsonwebtoken::DecodingKey,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        use jsonwebtoken::DecodingKeyKind;
        let rsa = |parameters: &'static sig::RsaParameters| match key.kind() {
            DecodingKeyKind::RsaModulusExponent { n, e } => {
                sig::RsaPublicKeyComponents { n, e }.verify(parameters, message, signature).is_ok()
            }
            DecodingKeyKind::SecretOrDer(der) => {
                sig::UnparsedPublicKey::new(parameters, der).verify(message, signature).is_ok()
            }
        };
        let raw = |verification: &'static dyn sig::VerificationAlgorithm| match key.kind() {
            DecodingKeyKind::SecretOrDer(bytes) => {
                sig::UnparsedPublicKey::new(verification, bytes).verify(message, signature).is_ok()
            }
            DecodingKeyKind::RsaModulusExponent { .. } => false,
        };
        match (key.family(), algorithm) {
            (AlgorithmFamily::Rsa, Algorithm::RS256) => rsa(&sig::RSA_PKCS1_2048_8192_SHA256),
            (AlgorithmFamily::Rsa, Algorithm::RS384) => rsa(&sig::RSA_PKCS1_2048_8192_SHA384),
            (AlgorithmFamily::Rsa, Algorithm::RS512) => rsa(&sig::RSA_PKCS1_2048_8192_SHA512),
            (AlgorithmFamily::Rsa, Algorithm::PS256) => rsa(&sig::RSA_PSS_2048_8192_SHA256),
            (AlgorithmFamily::Rsa, Algorithm::PS384) => rsa(&sig::RSA_PSS_2048_8192_SHA384),
            (AlgorithmFamily::Rsa, Algorithm::PS512) => rsa(&sig::RSA_PSS_2048_8192_SHA512),
            (AlgorithmFamily::Ec, Algorithm::ES256) => raw(&sig::ECDSA_P256_SHA256_FIXED),
            (AlgorithmFamily::Ec, Algorithm::ES384) => raw(&sig::ECDSA_P384_SHA384_FIXED),
            (AlgorithmFamily::Ed, Algorithm::EdDSA) => raw(&sig::ED25519),
            (AlgorithmFamily::Hmac, Algorithm::HS256 | Algorithm::HS384 | Algorithm::HS512) => {
                match key.kind() {
                    DecodingKeyKind::SecretOrDer(secret) => {
                        let key = aws_lc_rs::hmac::Key::new(hmac_algorithm(algorithm), secret);
                        aws_lc_rs::hmac::verify(&key, message, signature).is_ok()
                    }
                    DecodingKeyKind::RsaModulusExponent { .. } => false,
                }
            }
            _ => false,
        }
    }
}

#[cfg(all(feature = "rust-crypto", not(feature = "aws-lc")))]
mod backend {
    //! The RustCrypto crates, through jsonwebtoken's `rust_crypto` provider named explicitly
    //! (never installed as the process's default).

    use jsonwebtoken::crypto::rust_crypto::DEFAULT_PROVIDER as RUST_CRYPTO;
    use jsonwebtoken::jwk::EllipticCurve;
    use jsonwebtoken::{Algorithm, AlgorithmFamily, EncodingKey};
    use serde_json::{Map, Value};

    use super::{SigningError, b64};

    /// A key parsed once. P-256 and Ed25519 keys are held by the RustCrypto crates
    /// themselves (parsing a P-256 key derives its public point, which costs about as much as
    /// a signature); jsonwebtoken's signers, which are neither `Send` nor `Sync`, are made per
    /// signature for the others (RSA, whose signature dwarfs the parse, and HMAC).
    pub(super) enum Signer {
        P256(p256::ecdsa::SigningKey),
        Ed25519(ed25519_dalek::SigningKey),
        Provider(Algorithm, EncodingKey),
    }

    impl Signer {
        pub(super) fn hmac(algorithm: Algorithm, secret: &[u8]) -> Self {
            Signer::Provider(algorithm, EncodingKey::from_secret(secret))
        }

        pub(super) fn new(
            algorithm: Algorithm,
            key: &EncodingKey,
        ) -> Result<(Self, Option<Map<String, Value>>), SigningError> {
            // Made once here to check that the key fits the algorithm.
            let wrong = SigningError("the key does not fit the algorithm");
            (RUST_CRYPTO.signer_factory)(&algorithm, key).map_err(|_| wrong.clone())?;
            let utils = &RUST_CRYPTO.key_utils;
            let unusable = |_| SigningError("the public key could not be derived");
            let jwk: Option<Map<String, Value>> = match key.family() {
                AlgorithmFamily::Hmac => None,
                AlgorithmFamily::Rsa => {
                    let (n, e) =
                        (utils.rsa_pub_components_from_private_key)(key.as_bytes()).map_err(unusable)?;
                    Some(members([("e", b64(&e)), ("kty", "RSA".into()), ("n", b64(&n))]))
                }
                AlgorithmFamily::Ec => {
                    let (curve, x, y) = (utils.ec_pub_components_from_private_key)(key.as_bytes(), algorithm)
                        .map_err(unusable)?;
                    let crv = if curve == EllipticCurve::P384 { "P-384" } else { "P-256" };
                    Some(members([("crv", crv.into()), ("kty", "EC".into()), ("x", b64(&x)), ("y", b64(&y))]))
                }
                AlgorithmFamily::Ed => {
                    let x =
                        (utils.ed_pub_components_from_private_key)(key.as_bytes(), &EllipticCurve::Ed25519)
                            .map_err(unusable)?;
                    Some(members([("crv", "Ed25519".into()), ("kty", "OKP".into()), ("x", b64(&x))]))
                }
            };
            let signer = match algorithm {
                Algorithm::ES256 => {
                    use p256::pkcs8::DecodePrivateKey as _;
                    Signer::P256(
                        p256::ecdsa::SigningKey::from_pkcs8_der(key.as_bytes()).map_err(|_| wrong.clone())?,
                    )
                }
                Algorithm::EdDSA => {
                    use ed25519_dalek::pkcs8::DecodePrivateKey as _;
                    Signer::Ed25519(
                        ed25519_dalek::SigningKey::from_pkcs8_der(key.as_bytes())
                            .map_err(|_| wrong.clone())?,
                    )
                }
                _ => Signer::Provider(algorithm, key.clone()),
            };
            Ok((signer, jwk))
        }

        pub(super) fn sign(&self, message: &[u8]) -> Result<Vec<u8>, SigningError> {
            match self {
                Signer::P256(key) => {
                    use p256::ecdsa::signature::Signer as _;
                    let signature: p256::ecdsa::Signature = key.sign(message);
                    Ok(signature.to_bytes().to_vec())
                }
                Signer::Ed25519(key) => {
                    use ed25519_dalek::Signer as _;
                    Ok(key.sign(message).to_bytes().to_vec())
                }
                Signer::Provider(algorithm, key) => {
                    let signer = (RUST_CRYPTO.signer_factory)(algorithm, key)
                        .map_err(|_| SigningError("the key does not fit the algorithm"))?;
                    signer.try_sign(message).map_err(|_| SigningError("the crypto library could not sign"))
                }
            }
        }
    }

    #[cfg(feature = "dpop")]
    pub(super) fn generate_pkcs8(algorithm: Algorithm) -> Result<Vec<u8>, SigningError> {
        let random = |bytes: &mut [u8]| {
            getrandom::fill(bytes).map_err(|_| SigningError("the operating system gave no random bytes"))
        };
        let failed = |_| SigningError("could not encode the new key");
        let der = if algorithm == Algorithm::EdDSA {
            use ed25519_dalek::pkcs8::{EncodePrivateKey as _, KeypairBytes};
            // PKCS#8 v1 (RFC 5208), without the public key: the form both backends read.
            let mut secret_key = [0; 32];
            random(&mut secret_key)?;
            KeypairBytes { secret_key, public_key: None }.to_pkcs8_der().map_err(failed)?
        } else {
            use p256::pkcs8::EncodePrivateKey as _;
            // A uniformly random scalar: 32 random bytes, drawn again in the rare case (about
            // 2^-32) that they are not below the curve's order.
            let secret = loop {
                let mut bytes = [0; 32];
                random(&mut bytes)?;
                if let Ok(secret) = p256::SecretKey::from_slice(&bytes) {
                    break secret;
                }
            };
            secret.to_pkcs8_der().map_err(failed)?
        };
        Ok(der.as_bytes().to_vec())
    }

    fn members<const N: usize>(members: [(&str, Value); N]) -> Map<String, Value> {
        members.into_iter().map(|(name, value)| (name.to_owned(), value)).collect()
    }

    #[cfg(feature = "oidc")]
    pub(super) fn verify(
        algorithm: Algorithm,
        key: &jsonwebtoken::DecodingKey,
        message: &[u8],
        signature: &[u8],
    ) -> bool {
        (RUST_CRYPTO.verifier_factory)(&algorithm, key)
            .is_ok_and(|verifier| verifier.verify(message, &signature.to_vec()).is_ok())
    }
}
