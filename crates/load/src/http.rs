//! A lean keep-alive HTTP/1 client that behaves like one browser: one TCP connection, the
//! cookies the server set, a browser's headers. Lean on purpose: the tool shares the machine
//! with the server, and every cycle it spends is one the server under test does not get.

use anyhow::{anyhow, Context, Result};
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper::header::{self, HeaderMap, HeaderValue};
use hyper::{Method, Request, StatusCode};
use hyper_util::rt::TokioIo;
use std::collections::BTreeMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use tokio::net::{TcpSocket, TcpStream};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::WebSocketStream;

/// Pages that treat an empty User-Agent as a bot must see a browser.
pub const USER_AGENT: &str =
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) \
     Chrome/156.0 Safari/537.36 supportal-load";

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Bytes,
}

impl Response {
    pub fn location(&self) -> Option<&str> {
        self.headers
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
    }

    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap_or("")
    }

    /// Ok for 2xx and 3xx; an error naming the status otherwise.
    pub fn ok(self) -> Result<Response> {
        if self.status.is_success() || self.status.is_redirection() {
            Ok(self)
        } else {
            Err(anyhow!("HTTP {}", self.status))
        }
    }
}

/// What a browser asks for when it loads a page.
const HTML: &str = "text/html,application/xhtml+xml,*/*;q=0.8";

pub struct Browser {
    addr: SocketAddr,
    host: HeaderValue,
    sender: Option<SendRequest<Full<Bytes>>>,
    cookies: BTreeMap<String, String>,
    cookie_header: Option<HeaderValue>,
}

impl Browser {
    pub fn new(addr: SocketAddr) -> Browser {
        Browser {
            addr,
            host: HeaderValue::from_str(&addr.to_string())
                .unwrap_or(HeaderValue::from_static("localhost")),
            sender: None,
            cookies: BTreeMap::new(),
            cookie_header: None,
        }
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The `Cookie` header this browser sends (for WebSocket handshakes).
    pub fn cookie_header(&self) -> Option<&HeaderValue> {
        self.cookie_header.as_ref()
    }

    /// A browser with the same cookies, pointed at another server (a baseline serving the same page).
    pub fn with_cookies_at(&self, addr: SocketAddr) -> Browser {
        let mut other = Browser::new(addr);
        other.cookies = self.cookies.clone();
        other.cookie_header = self.cookie_header.clone();
        other
    }

    async fn connect(&mut self) -> Result<&mut SendRequest<Full<Bytes>>> {
        let stream = TcpStream::connect(self.addr)
            .await
            .with_context(|| format!("connecting to {}", self.addr))?;
        stream.set_nodelay(true)?;
        let (sender, connection) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
        tokio::spawn(connection);
        Ok(self.sender.insert(sender))
    }

    pub async fn get(&mut self, path: &str) -> Result<Response> {
        self.send(Method::GET, path, None, HTML).await
    }

    pub async fn post_form(&mut self, path: &str, fields: &[(&str, &str)]) -> Result<Response> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(Method::POST, path, Some(body), HTML).await
    }

    /// A form posted as a page's script posts it, asking for JSON back.
    pub async fn post_json_form(
        &mut self,
        path: &str,
        fields: &[(&str, &str)],
    ) -> Result<Response> {
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        self.send(Method::POST, path, Some(body), "application/json")
            .await
    }

    async fn send(
        &mut self,
        method: Method,
        path: &str,
        form: Option<String>,
        accept: &'static str,
    ) -> Result<Response> {
        let mut request = Request::builder()
            .method(method)
            .uri(path)
            .header(header::HOST, self.host.clone())
            .header(header::USER_AGENT, USER_AGENT)
            .header(header::ACCEPT, accept)
            .header(header::ACCEPT_LANGUAGE, "en-US,en;q=0.9");
        if let Some(cookies) = &self.cookie_header {
            request = request.header(header::COOKIE, cookies.clone());
        }
        let body = match form {
            Some(form) => {
                request = request.header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
                Full::new(Bytes::from(form))
            }
            None => Full::new(Bytes::new()),
        };
        let request = request.body(body)?;
        let reusable = match self.sender.as_mut() {
            Some(sender) => sender.ready().await.is_ok(),
            None => false,
        };
        let sender = match self.sender.as_mut() {
            Some(sender) if reusable => sender,
            _ => self.connect().await?,
        };
        let response = sender.send_request(request).await?;
        let (parts, body) = response.into_parts();
        let body = body.collect().await?.to_bytes();
        self.remember_cookies(&parts.headers);
        Ok(Response {
            status: parts.status,
            headers: parts.headers,
            body,
        })
    }

    fn remember_cookies(&mut self, headers: &HeaderMap) {
        let mut changed = false;
        for set in headers.get_all(header::SET_COOKIE) {
            let Some(pair) = set.to_str().ok().and_then(|s| s.split(';').next()) else {
                continue;
            };
            if let Some((name, value)) = pair.split_once('=') {
                self.cookies
                    .insert(name.trim().to_owned(), value.trim().to_owned());
                changed = true;
            }
        }
        if changed {
            self.join_cookies();
        }
    }

    /// Drop the cookies whose names start with `prefix` (a new visitor in the same browser).
    pub fn forget_cookies(&mut self, prefix: &str) {
        self.cookies.retain(|name, _| !name.starts_with(prefix));
        self.join_cookies();
    }

    fn join_cookies(&mut self) {
        let joined: Vec<String> = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        self.cookie_header = HeaderValue::from_str(&joined.join("; ")).ok();
    }
}

/// The value of the first hidden `csrf` field in a page.
pub fn csrf_field(html: &str) -> Option<&str> {
    let start = html.find("name=\"csrf\" value=\"")? + "name=\"csrf\" value=\"".len();
    let len = html[start..].find('"')?;
    Some(&html[start..start + len])
}

/// Open a browser on `path` and return it with the page's CSRF token.
pub async fn open_form(addr: SocketAddr, path: &str) -> Result<(Browser, String)> {
    let mut browser = Browser::new(addr);
    let page = browser.get(path).await?.ok()?;
    let token = csrf_field(page.text())
        .ok_or_else(|| anyhow!("{path} has no csrf field"))?
        .to_owned();
    Ok((browser, token))
}

pub type Socket = WebSocketStream<TcpStream>;

/// The source address for the `n`th socket: 20,000 per loopback address, so that more sockets
/// than one address has ephemeral ports can be opened to one server port.
fn source_for(n: usize) -> IpAddr {
    let spread = u8::try_from(1 + n / 20_000).unwrap_or(u8::MAX);
    IpAddr::V4(Ipv4Addr::new(127, 0, 0, spread))
}

/// Open a WebSocket at `path` as a browser would (its User-Agent, its cookies when given), from
/// the `n`th socket's source address.
pub async fn websocket(
    addr: SocketAddr,
    path: &str,
    cookies: Option<&HeaderValue>,
    n: usize,
) -> Result<Socket> {
    let socket = TcpSocket::new_v4()?;
    let source = source_for(n);
    // Binding first narrows the kernel's choice of ports: only past the first address.
    if source != IpAddr::V4(Ipv4Addr::LOCALHOST) {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket
        .connect(addr)
        .await
        .with_context(|| format!("connecting a socket for {path}"))?;
    stream.set_nodelay(true)?;
    let mut request = format!("ws://{addr}{path}").into_client_request()?;
    let headers = request.headers_mut();
    headers.insert(header::USER_AGENT, HeaderValue::from_static(USER_AGENT));
    if let Some(cookies) = cookies {
        headers.insert(header::COOKIE, cookies.clone());
    }
    // Small buffers: the tool holds thousands of these (tungstenite's default reads into 128 KiB).
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(request, stream, Some(config)).await?;
    Ok(ws)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_sockets_over_loopback_addresses() {
        assert_eq!(source_for(0), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source_for(19_999), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 1)));
        assert_eq!(source_for(20_000), IpAddr::V4(Ipv4Addr::new(127, 0, 0, 2)));
    }

    #[test]
    fn reads_the_csrf_field() {
        let html =
            r#"<form><input type="hidden" name="csrf" value="abc_12"><input name="x"></form>"#;
        assert_eq!(csrf_field(html), Some("abc_12"));
        assert_eq!(csrf_field("<p>no form</p>"), None);
    }
}
