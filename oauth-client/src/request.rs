//! The description of one request that generated code builds and hands to the runtime.

use std::borrow::Cow;

use crate::form::FormParams;
use crate::secret::{AccessToken, ClientSecret, Password, PkceVerifier, RefreshToken};

/// A provider endpoint that a declared request posts to, by name: this crate's own
/// (constants below) or any a team names in `#[oauth_grant(endpoint = "...")]`.
///
/// Its URL comes from [`OAuthClientBuilder::endpoint_url`](crate::OAuthClientBuilder::endpoint_url)
/// or from discovery metadata (`<name>_endpoint`), preferring the provider's
/// `mtls_endpoint_aliases` (RFC 8705 §5) when the client authenticates with mTLS.
///
/// ```
/// use oauth_client::Endpoint;
///
/// assert_eq!(Endpoint::PUSHED_AUTHORIZATION_REQUEST.name(), "pushed_authorization_request");
/// assert_eq!(Endpoint::named("vendor_consent").metadata_member(), "vendor_consent_endpoint");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    name: &'static str,
}

impl Endpoint {
    /// The token endpoint (RFC 6749 §3.2).
    pub const TOKEN: Endpoint = Endpoint::named("token");
    /// The authorization endpoint (RFC 6749 §3.1), for authorization URLs.
    pub const AUTHORIZATION: Endpoint = Endpoint::named("authorization");
    /// The device authorization endpoint (RFC 8628 §3.1).
    pub const DEVICE_AUTHORIZATION: Endpoint = Endpoint::named("device_authorization");
    /// The revocation endpoint (RFC 7009).
    pub const REVOCATION: Endpoint = Endpoint::named("revocation");
    /// The introspection endpoint (RFC 7662).
    pub const INTROSPECTION: Endpoint = Endpoint::named("introspection");
    /// The pushed authorization request endpoint (RFC 9126).
    pub const PUSHED_AUTHORIZATION_REQUEST: Endpoint = Endpoint::named("pushed_authorization_request");
    /// The backchannel authentication endpoint (OpenID CIBA).
    pub const BACKCHANNEL_AUTHENTICATION: Endpoint = Endpoint::named("backchannel_authentication");
    /// The dynamic client registration endpoint (RFC 7591).
    pub const REGISTRATION: Endpoint = Endpoint::named("registration");
    /// The UserInfo endpoint (OpenID Connect Core §5.3).
    pub const USERINFO: Endpoint = Endpoint::named("userinfo");
    /// The provider's JSON Web Key Set (metadata `jwks_uri`), read by `oidc::JwksCache`
    /// (cargo feature `oidc`).
    pub const JWKS: Endpoint = Endpoint::named("jwks");
    /// A registered client's configuration endpoint (RFC 7592 `registration_client_uri`), set
    /// by [`ClientRegistration::configuration_client`](crate::registration::ClientRegistration::configuration_client).
    pub const CLIENT_CONFIGURATION: Endpoint = Endpoint::named("client_configuration");

    /// This crate's own endpoints, the constants above.
    pub const KNOWN: [Endpoint; 11] = [
        Endpoint::TOKEN,
        Endpoint::AUTHORIZATION,
        Endpoint::DEVICE_AUTHORIZATION,
        Endpoint::REVOCATION,
        Endpoint::INTROSPECTION,
        Endpoint::PUSHED_AUTHORIZATION_REQUEST,
        Endpoint::BACKCHANNEL_AUTHENTICATION,
        Endpoint::REGISTRATION,
        Endpoint::USERINFO,
        Endpoint::JWKS,
        Endpoint::CLIENT_CONFIGURATION,
    ];

    /// The endpoint called `name`: lowercase snake case, as in `<name>_endpoint` of the
    /// provider's metadata.
    pub const fn named(name: &'static str) -> Endpoint {
        Endpoint { name }
    }

    /// The name used in `#[oauth_grant(endpoint = "...")]`, in messages and in traces.
    pub fn name(self) -> &'static str {
        self.name
    }

    /// The member of the provider's metadata that holds this endpoint's URL (RFC 8414 §2).
    pub fn metadata_member(self) -> String {
        format!("{}_endpoint", self.name)
    }
}

/// One declared request: its endpoint, `grant_type` (token endpoint only), form fields and
/// headers, in declaration order. Borrows the caller's arguments; nothing is copied until the
/// body is encoded.
pub struct GrantRequest<'a> {
    pub(crate) endpoint: Endpoint,
    /// Whether the client's configured authentication applies (the macro's `client_auth`).
    pub(crate) client_auth: bool,
    /// The HTTP method (the macro's `method`; POST by default). GET and DELETE send the
    /// fields in the query.
    pub(crate) method: reqwest::Method,
    /// A JSON body (the macro's `#[json]`), or why the value did not serialize.
    pub(crate) json: Option<Result<Vec<u8>, String>>,
    pub(crate) grant_type: Option<&'static str>,
    /// A `grant_type` among the caller's additional fields, which replaces the declared one.
    pub(crate) grant_type_override: Option<&'a str>,
    pub(crate) form: Vec<(&'a str, Cow<'a, str>)>,
    pub(crate) headers: Vec<(&'static str, Cow<'a, str>)>,
}

impl<'a> GrantRequest<'a> {
    /// A token-endpoint request for `grant_type`, without fields yet.
    pub fn new(grant_type: &'static str) -> Self {
        GrantRequest {
            endpoint: Endpoint::TOKEN,
            client_auth: true,
            method: reqwest::Method::POST,
            json: None,
            grant_type: Some(grant_type),
            grant_type_override: None,
            form: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A request to another endpoint, which takes no `grant_type`.
    pub fn to_endpoint(endpoint: Endpoint) -> Self {
        GrantRequest {
            endpoint,
            client_auth: true,
            method: reqwest::Method::POST,
            json: None,
            grant_type: None,
            grant_type_override: None,
            form: Vec::new(),
            headers: Vec::new(),
        }
    }

    /// A request that the client's configured authentication does not apply to (e.g. one
    /// authorized by a bearer token instead).
    #[must_use]
    pub fn without_client_auth(mut self) -> Self {
        self.client_auth = false;
        self
    }

    /// A request sent with `method` (`"GET"`, `"PUT"`, `"DELETE"`; anything else is POST):
    /// GET and DELETE carry the fields in the URL's query and no body. Never with client
    /// authentication (the macro requires `client_auth = false`).
    #[must_use]
    pub fn with_method(mut self, method: &'static str) -> Self {
        self.method = match method {
            "GET" => reqwest::Method::GET,
            "PUT" => reqwest::Method::PUT,
            "DELETE" => reqwest::Method::DELETE,
            _ => reqwest::Method::POST,
        };
        self.client_auth = false;
        self
    }

    /// Whether the fields go in the query (GET, DELETE) rather than a body.
    pub(crate) fn fields_in_query(&self) -> bool {
        self.method == reqwest::Method::GET || self.method == reqwest::Method::DELETE
    }

    /// Whether the caller gave a header called `name` (any case).
    pub(crate) fn has_header(&self, name: &str) -> bool {
        self.header(name).is_some()
    }

    /// The value of the declared header `name` (any case), if the call gave one.
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(header, _)| header.eq_ignore_ascii_case(name)).map(|(_, value)| &**value)
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
        self.grant_type_override
            .or(self.grant_type)
            .is_some_and(|grant_type| SINGLE_USE_GRANTS.contains(&grant_type))
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
            .field("endpoint", &self.endpoint.name())
            .field("client_auth", &self.client_auth)
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
    note = "a `#[header]` parameter is `&str`, `String`, `ClientAuthorization`, an `Option` of these, or `impl Into<T>` of one"
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
    /// An empty value sends no header.
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

/// An additional field with the name of a declared one (or `grant_type`) replaces it, in its
/// place: RFC 6749 §3.2 forbids sending a parameter twice, and callers override a declared
/// field this way (a `scope` of their own, a `grant_type` a provider spells differently). The first additional field of a name takes the
/// declared field's place (a declared slice's other values give way); further ones of the
/// same name, and names nothing declared, are appended.
impl AdditionalForm for FormParams {
    fn extend<'a>(&'a self, request: &mut GrantRequest<'a>) {
        let mut declared = request.form.len();
        let mut replaced: Vec<&str> = Vec::new();
        for (name, value) in self.iter() {
            if replaced.contains(&name) {
                request.push_form(name, Cow::Borrowed(value));
                continue;
            }
            if name == "grant_type" && request.grant_type.is_some() {
                request.grant_type_override = Some(value);
                replaced.push(name);
                continue;
            }
            match request.form[..declared].iter().position(|(declared_name, _)| *declared_name == name) {
                Some(first) => {
                    request.form[first].1 = Cow::Borrowed(value);
                    for index in (first + 1..declared).rev() {
                        if request.form[index].0 == name {
                            request.form.remove(index);
                            declared -= 1;
                        }
                    }
                    replaced.push(name);
                }
                None => request.push_form(name, Cow::Borrowed(value)),
            }
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

/// Sets the request's body to `value` as JSON (the macro's `#[json]`); a value that does not
/// serialize fails the request before anything is sent.
pub fn json_body<T: serde::Serialize + ?Sized>(value: &T, request: &mut GrantRequest<'_>) {
    request.json = Some(serde_json::to_vec(value).map_err(|error| error.to_string()));
}
