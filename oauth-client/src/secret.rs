//! Secret strings (tokens, client secret, password) whose `Debug` never shows the value.

use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// Declares a newtype that keeps a secret string: `.secret()` reads it, `Debug` prints only
/// the type name and `"[redacted]"`, serde reads and writes it as a plain string. The value
/// is shared (`Arc<str>`), so handing out a cached token copies no bytes.
macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq, Hash)]
        pub struct $name(Arc<str>);

        impl $name {
            /// Wraps a secret value.
            pub fn new(secret: impl Into<String>) -> Self {
                Self(Arc::from(secret.into()))
            }

            /// The secret value. Take care where it goes: logs and error messages are not
            /// the place.
            pub fn secret(&self) -> &str {
                &self.0
            }

            /// Unwraps the secret value.
            pub fn into_secret(self) -> String {
                self.0.to_string()
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }

        impl ::core::fmt::Debug for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.debug_tuple(stringify!($name)).field(&crate::secret::Redacted).finish()
            }
        }

        impl From<String> for $name {
            fn from(secret: String) -> Self {
                Self(Arc::from(secret))
            }
        }

        impl From<&str> for $name {
            fn from(secret: &str) -> Self {
                Self(Arc::from(secret))
            }
        }

        impl From<&String> for $name {
            fn from(secret: &String) -> Self {
                Self(Arc::from(secret.as_str()))
            }
        }

        impl From<::std::borrow::Cow<'_, str>> for $name {
            fn from(secret: ::std::borrow::Cow<'_, str>) -> Self {
                Self(Arc::from(secret.as_ref()))
            }
        }
    };
}

/// Stands in for a secret value in `Debug` output.
pub(crate) struct Redacted;

impl core::fmt::Debug for Redacted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("[redacted]")
    }
}

secret_string! {
    /// An access token (RFC 6749 §1.4), sent to resource servers as a bearer credential.
    AccessToken
}

secret_string! {
    /// A refresh token (RFC 6749 §1.5), exchanged at the token endpoint for new access tokens.
    RefreshToken
}

secret_string! {
    /// A client secret (RFC 6749 §2.3.1).
    ClientSecret
}

secret_string! {
    /// A resource owner's password (RFC 6749 §4.3).
    Password
}

secret_string! {
    /// The PKCE code verifier (RFC 7636 §4.1): kept by the client, sent only with the token
    /// request (`code_verifier`).
    PkceVerifier
}
