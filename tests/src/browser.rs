//! A scripted browser for the login and consent steps of the authorization-code flow: keeps
//! cookies, does not follow redirects, and reads hidden form fields.

use std::collections::BTreeMap;

use reqwest::header::{COOKIE, LOCATION, REFERER, SET_COOKIE};

/// What one page load returned.
pub struct Page {
    /// The HTTP status.
    pub status: u16,
    /// The `Location` header, if any.
    pub location: Option<String>,
    /// The body.
    pub body: String,
}

/// A cookie-keeping HTTP client that never follows redirects.
pub struct Browser {
    http: reqwest::Client,
    cookies: BTreeMap<String, String>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies.
    pub fn new() -> Self {
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("an HTTP client");
        Browser { http, cookies: BTreeMap::new() }
    }

    /// `GET url`.
    pub async fn get(&mut self, url: &str) -> Page {
        let request = self.http.get(url);
        self.send(request).await
    }

    /// `POST url` with a form, as a browser submitting a page at `referer` would.
    pub async fn post_form(&mut self, url: &str, fields: &[(String, String)], referer: &str) -> Page {
        let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(fields).finish();
        let request = self
            .http
            .post(url)
            .header(REFERER, referer)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body);
        self.send(request).await
    }

    /// The HTTP client under the browser, to build a request for [`send`](Self::send) with
    /// the headers a page's script would add.
    pub fn http(&self) -> reqwest::Client {
        self.http.clone()
    }

    /// The value of a cookie the browser keeps.
    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }

    /// Sends `request` with the browser's cookies, keeping those the answer sets.
    pub async fn send(&mut self, mut request: reqwest::RequestBuilder) -> Page {
        if !self.cookies.is_empty() {
            let header: Vec<String> =
                self.cookies.iter().map(|(name, value)| format!("{name}={value}")).collect();
            request = request.header(COOKIE, header.join("; "));
        }
        let response = request.send().await.expect("the peer answers");
        for set_cookie in response.headers().get_all(SET_COOKIE) {
            let pair = set_cookie.to_str().expect("ASCII cookie").split(';').next().unwrap_or_default();
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies.insert(name.trim().to_owned(), value.trim().to_owned());
            }
        }
        let status = response.status().as_u16();
        let location =
            response.headers().get(LOCATION).map(|value| value.to_str().expect("ASCII").to_owned());
        let body = response.text().await.expect("a text body");
        Page { status, location, body }
    }
}

/// The `name`/`value` pairs of the hidden `<input>`s of an HTML page, in order.
pub fn hidden_fields(html: &str) -> Vec<(String, String)> {
    html.split("<input")
        .skip(1)
        .filter_map(|tag| {
            let tag = &tag[..tag.find('>')?];
            (attribute(tag, "type")? == "hidden").then_some(())?;
            Some((attribute(tag, "name")?, attribute(tag, "value").unwrap_or_default()))
        })
        .collect()
}

fn attribute(tag: &str, name: &str) -> Option<String> {
    let start = tag.find(&format!(" {name}=\""))? + name.len() + 3;
    let end = start + tag[start..].find('"')?;
    Some(unescape_html(&tag[start..end]))
}

fn unescape_html(text: &str) -> String {
    text.replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}
