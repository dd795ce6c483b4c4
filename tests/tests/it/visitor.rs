//! A browser-less visitor of the server-rendered pages (till, sign-up): its own cookie
//! jar, no redirects followed, answers with status, headers and body.

use crate::server::TestServer;

/// A browser-less visitor: its own cookie jar, no redirects followed.
pub(crate) struct Visitor<'a> {
    server: &'a TestServer,
    client: reqwest::Client,
    cookies: Vec<(String, String)>,
}

/// An answer: status, headers and body.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) status: u16,
    pub(crate) headers: Vec<(String, String)>,
    pub(crate) text: String,
    pub(crate) bytes: Vec<u8>,
}

impl Answer {
    #[track_caller]
    pub(crate) fn expect(self, status: u16, what: &str) -> Answer {
        assert_eq!(self.status, status, "{what}: {}", self.text);
        self
    }

    /// The value of the first hidden field `name` on the page.
    #[track_caller]
    pub(crate) fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .text
            .find(&marker)
            .unwrap_or_else(|| panic!("no field {name} in {}", self.text))
            + marker.len();
        let end = self.text[start..].find('"').unwrap_or(0) + start;
        self.text[start..end].to_owned()
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

impl<'a> Visitor<'a> {
    pub(crate) fn new(server: &'a TestServer) -> Visitor<'a> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap_or_else(|e| panic!("client: {e}"));
        Visitor {
            server,
            client,
            cookies: Vec::new(),
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let jar: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        let request = if jar.is_empty() {
            request
        } else {
            request.header("cookie", jar.join("; "))
        };
        let response = request
            .send()
            .await
            .unwrap_or_else(|e| panic!("{:?}: {e}", self.server.db));
        for set in response.headers().get_all("set-cookie") {
            let Some((name, value)) = set
                .to_str()
                .ok()
                .and_then(|s| s.split(';').next())
                .and_then(|pair| pair.split_once('='))
            else {
                continue;
            };
            self.cookies.retain(|(k, _)| k != name);
            if !value.is_empty() {
                self.cookies.push((name.to_owned(), value.to_owned()));
            }
        }
        let headers = response
            .headers()
            .iter()
            .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("?").to_owned()))
            .collect();
        let status = response.status().as_u16();
        let bytes = response
            .bytes()
            .await
            .map(|b| b.to_vec())
            .unwrap_or_default();
        Answer {
            status,
            headers,
            text: String::from_utf8_lossy(&bytes).into_owned(),
            bytes,
        }
    }

    pub(crate) async fn get(&mut self, path: &str) -> Answer {
        let url = format!("{}{path}", self.server.base);
        let request = self.client.get(url);
        self.send(request).await
    }

    pub(crate) async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        let url = format!("{}{path}", self.server.base);
        let request = self.client.post(url).form(form);
        self.send(request).await
    }

    /// The value of the cookie `name` this visitor holds.
    pub(crate) fn cookie(&self, name: &str) -> Option<String> {
        self.cookies
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    }
}
