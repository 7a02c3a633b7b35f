//! What `#[oauth_grant]` declared, readable at run time: a [`GrantDescriptor`] per declared
//! method, and [`DeclaredCall`] to send one with values known only at run time (from a
//! command line, a script, a test table) through the same runtime path as the method.
//!
//! The `oauth` command-line client turns every descriptor it is given into a subcommand;
//! [`grants!`](crate::grants) collects the descriptors of declared methods:
//!
//! ```
//! use oauth_client::declared::{FieldKind, ResponseKind};
//! use oauth_client::extensions::TokenExchange;
//! use oauth_client::grants;
//!
//! let [exchange] = grants![TokenExchange::exchange_token];
//! assert_eq!(exchange.method(), "exchange_token");
//! assert_eq!(exchange.grant_type(), Some("urn:ietf:params:oauth:grant-type:token-exchange"));
//! assert_eq!(exchange.response(), ResponseKind::Token);
//! let subject = exchange.fields().iter().find(|field| field.name() == "subject_token").unwrap();
//! assert!(subject.is_required() && subject.kind() == FieldKind::Form);
//! ```

use serde_json::Value;

use crate::error::Error;
use crate::form::FormParams;
use crate::request::{AdditionalForm, Endpoint, FormField, GrantRequest, HeaderField};
use crate::{OAuthClient, OAuthToken};

/// One method declared with [`oauth_grant`](crate::oauth_grant): its name, what it sends
/// where, and what it answers. Emitted by the macro; read with [`grants!`](crate::grants).
#[derive(Clone, Copy, Debug)]
pub struct GrantDescriptor {
    method: &'static str,
    summary: &'static str,
    grant_type: Option<&'static str>,
    endpoint: Endpoint,
    http_method: &'static str,
    client_auth: bool,
    fields: &'static [FieldDescriptor],
    additional_fields: bool,
    response: ResponseKind,
}

/// One parameter of a declared method, as it goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldDescriptor {
    name: &'static str,
    kind: FieldKind,
    required: bool,
    repeated: bool,
}

/// Where a declared parameter goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FieldKind {
    /// A form field (`#[form]`), or a query parameter of a GET or DELETE request.
    Form,
    /// A request header (`#[header("Name")]`).
    Header,
    /// The whole body, as JSON (`#[json]`).
    Json,
}

/// What a declared method answers, decided from its declared success type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ResponseKind {
    /// An [`OAuthToken`] (RFC 6749 §5.1).
    Token,
    /// Nothing the caller reads (`Result<(), Error>`): any success answer will do.
    Empty,
    /// Another JSON model.
    Json,
}

impl GrantDescriptor {
    #[doc(hidden)]
    #[allow(clippy::too_many_arguments)] // called by generated code only, with every part
    pub const fn __new(
        method: &'static str,
        summary: &'static str,
        grant_type: Option<&'static str>,
        endpoint: Endpoint,
        http_method: &'static str,
        client_auth: bool,
        fields: &'static [FieldDescriptor],
        additional_fields: bool,
        response: ResponseKind,
    ) -> Self {
        GrantDescriptor {
            method,
            summary,
            grant_type,
            endpoint,
            http_method,
            client_auth,
            fields,
            additional_fields,
            response,
        }
    }

    /// The Rust method's name (`request_token_ccg`).
    pub fn method(&self) -> &'static str {
        self.method
    }

    /// The first paragraph of the method's documentation, on one line (empty without docs).
    pub fn summary(&self) -> &'static str {
        self.summary
    }

    /// The `grant_type` sent to the token endpoint; `None` for another endpoint.
    pub fn grant_type(&self) -> Option<&'static str> {
        self.grant_type
    }

    /// The endpoint the request goes to.
    pub fn endpoint(&self) -> Endpoint {
        self.endpoint
    }

    /// The HTTP method: `POST`, `GET`, `PUT` or `DELETE`.
    pub fn http_method(&self) -> &'static str {
        self.http_method
    }

    /// Whether the client's configured authentication applies.
    pub fn client_auth(&self) -> bool {
        self.client_auth
    }

    /// The declared parameters, in declaration order (additional fields excepted).
    pub fn fields(&self) -> &'static [FieldDescriptor] {
        self.fields
    }

    /// Whether the method takes the caller's additional form fields (`#[form_params]`).
    pub fn takes_additional_fields(&self) -> bool {
        self.additional_fields
    }

    /// What the method answers.
    pub fn response(&self) -> ResponseKind {
        self.response
    }

    /// A call of this method, to be given its values.
    pub fn call(&self) -> DeclaredCall {
        DeclaredCall {
            descriptor: *self,
            values: Vec::new(),
            additional: FormParams::new(),
            unknown: Vec::new(),
        }
    }
}

impl FieldDescriptor {
    #[doc(hidden)]
    pub const fn __new(name: &'static str, kind: FieldKind, required: bool, repeated: bool) -> Self {
        FieldDescriptor { name, kind, required, repeated }
    }

    /// The name on the wire: the form field's (after `rename`) or the header's. A JSON body
    /// has the parameter's name.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Where the value goes.
    pub fn kind(&self) -> FieldKind {
        self.kind
    }

    /// Whether the declared type is not an `Option`.
    pub fn is_required(&self) -> bool {
        self.required
    }

    /// Whether the parameter is a list, each item sent as its own field (`&[&str]`, `Vec`).
    pub fn is_repeated(&self) -> bool {
        self.repeated
    }
}

/// The answer to a [`DeclaredCall`], read as the method's declared [`ResponseKind`].
#[derive(Debug)]
#[non_exhaustive]
pub enum DeclaredResponse {
    /// A token; its secrets are redacted in `Debug`.
    Token(OAuthToken),
    /// A success without a model.
    Empty,
    /// The JSON body.
    Json(Value),
}

/// A declared method called with run-time values: sent exactly as the method would send
/// them, through the same runtime path (client authentication, DPoP, retries, limits).
///
/// ```no_run
/// # async fn run(client: &oauth_client::OAuthClient) -> Result<(), oauth_client::Error> {
/// use oauth_client::declared::DeclaredResponse;
/// use oauth_client::{grants, OAuthAuthorization};
///
/// let [ccg] = grants![OAuthAuthorization::request_token_ccg];
/// if let DeclaredResponse::Token(token) = ccg.call().value("scope", "read").send(client).await? {
///     println!("{:?}", token.expiry);
/// }
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct DeclaredCall {
    descriptor: GrantDescriptor,
    /// The values given, each with the field it was given for.
    values: Vec<(&'static FieldDescriptor, String)>,
    additional: FormParams,
    /// Names given to [`value`](DeclaredCall::value) that the method does not declare.
    unknown: Vec<String>,
}

impl core::fmt::Debug for DeclaredCall {
    // Values are arguments such as passwords and assertions: only names are shown.
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("DeclaredCall")
            .field("method", &self.descriptor.method)
            .field("values", &self.values.iter().map(|(field, _)| field.name).collect::<Vec<_>>())
            .field("additional", &self.additional.iter().map(|(name, _)| name).collect::<Vec<_>>())
            .field("unknown", &self.unknown)
            .finish_non_exhaustive()
    }
}

impl DeclaredCall {
    /// Gives the declared field `name` (its wire name) a value; a repeated field takes one
    /// call per item. A JSON body takes its JSON text. Names the method does not declare are
    /// refused when the call is sent.
    #[must_use]
    pub fn value(mut self, name: &str, value: impl Into<String>) -> Self {
        let value = value.into();
        match self.descriptor.fields.iter().find(|field| field.name == name) {
            Some(field) => self.values.push((field, value)),
            None => self.unknown.push(name.to_owned()),
        }
        self
    }

    /// Adds an additional form field, sent after the declared ones (`#[form_params]`).
    #[must_use]
    pub fn additional(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.additional.push(name, value);
        self
    }

    /// Sends the call with `client`, reading the answer as the method declares.
    ///
    /// # Errors
    ///
    /// [`Error::InvalidCall`] when a name is not declared, a required value is missing, a
    /// single value is given twice, a JSON body is not JSON, or additional fields are given
    /// to a method that takes none; otherwise the method's own errors.
    pub async fn send(self, client: &OAuthClient) -> Result<DeclaredResponse, Error> {
        let json = self.check()?;
        let descriptor = self.descriptor;
        let mut request = match descriptor.grant_type {
            Some(grant_type) => GrantRequest::new(grant_type),
            None => GrantRequest::to_endpoint(descriptor.endpoint),
        };
        if !descriptor.client_auth {
            request = request.without_client_auth();
        }
        if descriptor.http_method != "POST" {
            request = request.with_method(descriptor.http_method);
        }
        // In declaration order, as the generated method sends them.
        for field in descriptor.fields {
            for (_, value) in self.values.iter().filter(|(given, _)| given.name == field.name) {
                match field.kind {
                    FieldKind::Form => value.append_to(field.name, &mut request),
                    FieldKind::Header => value.add_to(field.name, &mut request),
                    FieldKind::Json => crate::request::json_body(&json, &mut request),
                }
            }
        }
        // Additional fields replace declared ones of the same name, as `#[form_params]` do.
        AdditionalForm::extend(&self.additional, &mut request);
        Ok(match descriptor.response {
            ResponseKind::Token => {
                DeclaredResponse::Token(crate::transport::send_token::<Error>(client, request).await?)
            }
            ResponseKind::Empty => {
                crate::transport::send_empty::<Error>(client, request).await?;
                DeclaredResponse::Empty
            }
            ResponseKind::Json => {
                DeclaredResponse::Json(crate::transport::send::<_, Error>(client, request).await?)
            }
        })
    }

    /// Checks the values against the declaration; returns the JSON body, parsed, if one was
    /// given.
    fn check(&self) -> Result<Option<Value>, Error> {
        let method = self.descriptor.method;
        let invalid = |reason: String| Error::InvalidCall { method, reason };
        if let Some(name) = self.unknown.first() {
            return Err(invalid(format!("it declares no parameter `{name}`")));
        }
        if !self.additional.is_empty() && !self.descriptor.additional_fields {
            return Err(invalid("it takes no additional form fields".to_owned()));
        }
        for field in self.descriptor.fields {
            let given = self.values.iter().filter(|(given, _)| given.name == field.name).count();
            if given == 0 && field.required && !field.repeated && field.kind != FieldKind::Header {
                return Err(invalid(format!("`{}` is required", field.name)));
            }
            if given > 1 && !field.repeated {
                return Err(invalid(format!("`{}` takes one value", field.name)));
            }
        }
        self.values
            .iter()
            .find(|(field, _)| field.kind == FieldKind::Json)
            .map(|(_, text)| {
                serde_json::from_str(text)
                    .map_err(|error| invalid(format!("the JSON body is not JSON: {error}")))
            })
            .transpose()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: &[FieldDescriptor] = &[
        FieldDescriptor::__new("assertion", FieldKind::Form, true, false),
        FieldDescriptor::__new("audience", FieldKind::Form, false, true),
        FieldDescriptor::__new("Authorization", FieldKind::Header, true, false),
    ];
    const SAML: GrantDescriptor = GrantDescriptor::__new(
        "request_token_saml",
        "",
        Some("urn:ietf:params:oauth:grant-type:saml2-bearer"),
        Endpoint::TOKEN,
        "POST",
        true,
        FIELDS,
        false,
        ResponseKind::Token,
    );

    /// The reason a call is refused before anything is sent (nothing listens on port 9).
    fn refusal(call: DeclaredCall) -> String {
        let client = OAuthClient::new("http://127.0.0.1:9/token").unwrap();
        let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        match runtime.block_on(call.send(&client)) {
            Err(Error::InvalidCall { method: "request_token_saml", reason }) => reason,
            other => panic!("expected InvalidCall, got {other:?}"),
        }
    }

    #[test]
    fn calls_that_do_not_match_the_declaration_are_refused_before_sending() {
        assert_eq!(refusal(SAML.call()), "`assertion` is required");
        assert_eq!(
            refusal(SAML.call().value("assertion", "a").value("assertion", "b")),
            "`assertion` takes one value"
        );
        assert_eq!(
            refusal(SAML.call().value("assertion", "a").value("scope", "x")),
            "it declares no parameter `scope`"
        );
        assert_eq!(
            refusal(SAML.call().value("assertion", "a").additional("resource", "r")),
            "it takes no additional form fields"
        );
    }

    #[test]
    fn a_json_body_must_be_json_and_debug_shows_no_values() {
        const BODY: &[FieldDescriptor] = &[FieldDescriptor::__new("metadata", FieldKind::Json, true, false)];
        let register = GrantDescriptor { fields: BODY, ..SAML };
        let call = register.call().value("metadata", "{not json");
        assert!(!format!("{call:?}").contains("not json"), "{call:?}");
        assert!(refusal(call).starts_with("the JSON body is not JSON: "));
        let call =
            SAML.call().value("assertion", "secret-assertion").value("audience", "a").value("audience", "b");
        assert!(!format!("{call:?}").contains("secret-assertion"));
    }
}
