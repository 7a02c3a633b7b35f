//! The description of one request that generated code builds and hands to the runtime.

use std::borrow::Cow;

use crate::form::FormParams;
use crate::secret::{AccessToken, ClientSecret, Password, PkceVerifier, RefreshToken};

/// The provider endpoint a declared request posts to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Endpoint {
    /// The token endpoint (RFC 6749 §3.2).
    Token,
    /// The device authorization endpoint (RFC 8628 §3.1).
    DeviceAuthorization,
    /// The revocation endpoint (RFC 7009).
    Revocation,
    /// The introspection endpoint (RFC 7662).
    Introspection,
}

impl Endpoint {
    /// The name used in messages and in `#[oauth_grant(endpoint = "...")]`.
    pub fn name(self) -> &'static str {
        match self {
            Endpoint::Token => "token",
            Endpoint::DeviceAuthorization => "device_authorization",
            Endpoint::Revocation => "revocation",
            Endpoint::Introspection => "introspection",
        }
    }
}

/// One declared request: its endpoint, `grant_type` (token endpoint only), form fields and
/// headers, in declaration order. Borrows the caller's arguments; nothing is copied until the
/// body is encoded.
pub struct GrantRequest<'a> {
    pub(crate) endpoint: Endpoint,
    pub(crate) grant_type: Option<&'static str>,
    pub(crate) form: Vec<(&'a str, Cow<'a, str>)>,
    pub(crate) headers: Vec<(&'static str, Cow<'a, str>)>,
}

impl<'a> GrantRequest<'a> {
    /// A token-endpoint request for `grant_type`, without fields yet.
    pub fn new(grant_type: &'static str) -> Self {
        GrantRequest {
            endpoint: Endpoint::Token,
            grant_type: Some(grant_type),
            form: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A request to another endpoint, which takes no `grant_type`.
    pub fn to_endpoint(endpoint: Endpoint) -> Self {
        GrantRequest { endpoint, grant_type: None, form: Vec::new(), headers: Vec::new() }
    }

    /// What the request is, for traces and the retry rule: the grant type, or the endpoint.
    pub(crate) fn label(&self) -> &'static str {
        self.grant_type.unwrap_or(self.endpoint.name())
    }

    /// Whether a second copy of this request could be refused, or worse, taken as a replay:
    /// an authorization code, a refresh token (rotating providers revoke the grant when a used
    /// one comes back), a JWT assertion (its `jti` is single-use, RFC 7523 §3).
    pub(crate) fn carries_single_use_credential(&self) -> bool {
        const SINGLE_USE_GRANTS: [&str; 3] =
            ["authorization_code", "refresh_token", "urn:ietf:params:oauth:grant-type:jwt-bearer"];
        self.grant_type.is_some_and(|grant_type| SINGLE_USE_GRANTS.contains(&grant_type))
            || self.form.iter().any(|(name, _)| *name == "client_assertion")
    }

    fn push_form(&mut self, name: &'a str, value: Cow<'a, str>) {
        self.form.push((name, value));
    }
}

impl core::fmt::Debug for GrantRequest<'_> {
    // Values are arguments such as passwords and codes: only names are shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("GrantRequest")
            .field("endpoint", &self.endpoint)
            .field("grant_type", &self.grant_type)
            .field("form", &self.form.iter().map(|(name, _)| *name).collect::<Vec<_>>())
            .field("headers", &self.headers.iter().map(|(name, _)| *name).collect::<Vec<_>>())
            .finish()
    }
}

/// A type that a `#[form]` parameter can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a form field",
    label = "unsupported `#[form]` parameter type",
    note = "a `#[form]` parameter is `&str`, `String`, a number, `bool`, a secret such as `&RefreshToken`, or an `Option` or slice of these"
)]
pub trait FormField {
    /// Appends this value under `name`; `None` appends nothing, a slice appends every item.
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>);
}

/// A type that a `#[header("...")]` parameter can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as a header value",
    label = "unsupported `#[header]` parameter type",
    note = "a `#[header]` parameter is `&str`, `String`, or an `Option` of these"
)]
pub trait HeaderField {
    /// Adds this value as header `name`; `None` adds nothing.
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>);
}

/// A type that a `#[form_params]` parameter can have.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be sent as additional form fields",
    label = "unsupported `#[form_params]` parameter type",
    note = "a `#[form_params]` parameter is `Option<&FormParams>` or `&FormParams`"
)]
pub trait AdditionalForm {
    /// Appends every field, after the named ones.
    fn extend<'a>(&'a self, request: &mut GrantRequest<'a>);
}

impl FormField for str {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        request.push_form(name, Cow::Borrowed(self));
    }
}

impl FormField for String {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        request.push_form(name, Cow::Borrowed(self));
    }
}

macro_rules! secret_form_field {
    ($($secret:ty),*) => {$(
        impl FormField for $secret {
            fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
                request.push_form(name, Cow::Borrowed(self.secret()));
            }
        }
    )*};
}
secret_form_field!(AccessToken, RefreshToken, ClientSecret, Password, PkceVerifier);

macro_rules! display_form_field {
    ($($ty:ty),*) => {$(
        impl FormField for $ty {
            fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
                request.push_form(name, Cow::Owned(self.to_string()));
            }
        }
    )*};
}
display_form_field!(bool, u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize);

impl<T: FormField + ?Sized> FormField for &T {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        (**self).append_to(name, request);
    }
}

impl<T: FormField> FormField for Option<T> {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        if let Some(value) = self {
            value.append_to(name, request);
        }
    }
}

impl<T: FormField> FormField for [T] {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        for value in self {
            value.append_to(name, request);
        }
    }
}

impl<T: FormField> FormField for Vec<T> {
    fn append_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        self.as_slice().append_to(name, request);
    }
}

impl HeaderField for str {
    /// An empty value sends no header: e.g. `""` for `Authorization` when the client
    /// authenticates with form fields instead ([`ClientSecretPost`](crate::ClientSecretPost)).
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        if !self.is_empty() {
            request.headers.push((name, Cow::Borrowed(self)));
        }
    }
}

impl HeaderField for String {
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        self.as_str().add_to(name, request);
    }
}

impl<T: HeaderField + ?Sized> HeaderField for &T {
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        (**self).add_to(name, request);
    }
}

impl<T: HeaderField> HeaderField for Option<T> {
    fn add_to<'a>(&'a self, name: &'static str, request: &mut GrantRequest<'a>) {
        if let Some(value) = self {
            value.add_to(name, request);
        }
    }
}

impl AdditionalForm for FormParams {
    fn extend<'a>(&'a self, request: &mut GrantRequest<'a>) {
        for (name, value) in self.iter() {
            request.push_form(name, Cow::Borrowed(value));
        }
    }
}

impl<T: AdditionalForm + ?Sized> AdditionalForm for &T {
    fn extend<'a>(&'a self, request: &mut GrantRequest<'a>) {
        (**self).extend(request);
    }
}

impl<T: AdditionalForm> AdditionalForm for Option<T> {
    fn extend<'a>(&'a self, request: &mut GrantRequest<'a>) {
        if let Some(params) = self {
            params.extend(request);
        }
    }
}
