//! Additional form fields a caller sends with a grant.

/// An ordered list of extra form fields, sent after a grant's named fields.
///
/// ```
/// use oauth_client::FormParams;
///
/// let extra = FormParams::new().with("audience", "api").with("resource", "https://api.example");
/// assert_eq!(extra.iter().next(), Some(("audience", "api")));
///
/// let same: FormParams = [("audience", "api"), ("resource", "https://api.example")].into();
/// assert_eq!(extra, same);
/// ```
///
/// Values may be secrets (a PKCE verifier, an assertion), so `Debug` shows only the names.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct FormParams {
    fields: Vec<(String, String)>,
}

impl FormParams {
    /// An empty list.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a field and returns the list, for chaining.
    #[must_use]
    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.push(name, value);
        self
    }

    /// Appends a field. A name may repeat (e.g. `audience` in RFC 8693); every value is sent.
    pub fn push(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.fields.push((name.into(), value.into()));
    }

    /// The fields in the order they are sent.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &str)> {
        self.fields.iter().map(|(name, value)| (name.as_str(), value.as_str()))
    }

    /// The number of fields.
    pub fn len(&self) -> usize {
        self.fields.len()
    }

    /// Whether there are no fields.
    pub fn is_empty(&self) -> bool {
        self.fields.is_empty()
    }
}

impl core::fmt::Debug for FormParams {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_map().entries(self.fields.iter().map(|(name, _)| (name, crate::secret::Redacted))).finish()
    }
}

impl<K: Into<String>, V: Into<String>> FromIterator<(K, V)> for FormParams {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(iter: I) -> Self {
        let mut params = FormParams::new();
        params.extend(iter);
        params
    }
}

impl<K: Into<String>, V: Into<String>> Extend<(K, V)> for FormParams {
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, iter: I) {
        for (name, value) in iter {
            self.push(name, value);
        }
    }
}

impl<K: Into<String>, V: Into<String>, const N: usize> From<[(K, V); N]> for FormParams {
    fn from(fields: [(K, V); N]) -> Self {
        fields.into_iter().collect()
    }
}
