//! One push request on the wire: HTTP/1.1 on hyper's client connection, over rustls (ring, the
//! compiled-in webpki roots: the static binary needs no /etc/ssl) for `https://`, or plain to a
//! loopback `http://` endpoint (tests). One connection per request; push services answer fast.

use bytes::Bytes;
use http::{header, Request, StatusCode};
use http_body_util::Full;
use hyper_util::rt::TokioIo;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

/// The whole exchange (connect, TLS, request, answer head) within this.
const TIMEOUT: Duration = Duration::from_secs(15);

fn tls() -> Result<Arc<rustls::ClientConfig>, String> {
    static CONFIG: OnceLock<Result<Arc<rustls::ClientConfig>, String>> = OnceLock::new();
    CONFIG
        .get_or_init(|| {
            let provider = Arc::new(rustls::crypto::ring::default_provider());
            let roots = rustls::RootCertStore {
                roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
            };
            let mut config = rustls::ClientConfig::builder_with_provider(provider)
                .with_safe_default_protocol_versions()
                .map_err(|e| format!("TLS setup failed: {e}"))?
                .with_root_certificates(roots)
                .with_no_client_auth();
            config.alpn_protocols = vec![b"http/1.1".to_vec()];
            Ok(Arc::new(config))
        })
        .clone()
}

/// Sends `req` to `endpoint` (checked by `super::check_endpoint`); the push service's status,
/// or a sentence saying why there is none.
pub async fn post(endpoint: &url::Url, req: Request<Vec<u8>>) -> Result<StatusCode, String> {
    post_with(endpoint, req, TIMEOUT, "the push service").await
}

/// The same exchange for another kind of receiver (webhooks): within `timeout`, the sentences
/// naming `peer`.
pub async fn post_with(
    endpoint: &url::Url,
    req: Request<Vec<u8>>,
    timeout: Duration,
    peer: &str,
) -> Result<StatusCode, String> {
    match tokio::time::timeout(timeout, exchange(endpoint, req, peer)).await {
        Ok(res) => res,
        Err(_) => Err(format!(
            "{} did not answer within {} s.",
            capital(peer),
            timeout.as_secs()
        )),
    }
}

fn capital(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

async fn exchange(
    endpoint: &url::Url,
    req: Request<Vec<u8>>,
    peer: &str,
) -> Result<StatusCode, String> {
    let host = match endpoint.host() {
        Some(url::Host::Domain(d)) => d.to_string(),
        Some(url::Host::Ipv4(a)) => a.to_string(),
        Some(url::Host::Ipv6(a)) => a.to_string(),
        None => return Err("The endpoint has no host.".into()),
    };
    let port = endpoint
        .port_or_known_default()
        .ok_or("The endpoint has no port.")?;
    let tcp = TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| format!("Could not connect to {peer}: {e}."))?;
    let _ = tcp.set_nodelay(true);
    // The request line carries the path only; the Host header says where.
    let (mut parts, body) = req.into_parts();
    let path = endpoint[url::Position::BeforePath..url::Position::AfterQuery].to_string();
    parts.uri = path
        .parse()
        .map_err(|_| "The endpoint's path is not valid.".to_string())?;
    let authority = endpoint[url::Position::BeforeHost..url::Position::AfterPort].to_string();
    let authority = authority
        .parse()
        .map_err(|_| "The endpoint's host is not valid.".to_string())?;
    parts.headers.insert(header::HOST, authority);
    let req = Request::from_parts(parts, Full::new(Bytes::from(body)));
    if endpoint.scheme() == "https" {
        let name = rustls::pki_types::ServerName::try_from(host)
            .map_err(|_| "The endpoint's host is not a valid TLS name.".to_string())?;
        let tls = tokio_rustls::TlsConnector::from(tls()?)
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {peer} failed: {e}."))?;
        http1(tls, req, peer).await
    } else {
        http1(tcp, req, peer).await
    }
}

async fn http1<IO>(io: IO, req: Request<Full<Bytes>>, peer: &str) -> Result<StatusCode, String>
where
    IO: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(io))
        .await
        .map_err(|e| format!("HTTP with {peer} failed: {e}."))?;
    // The connection is driven until the answer is in; dropping `sender` then ends it.
    let driver = tokio::spawn(conn);
    let res = sender
        .send_request(req)
        .await
        .map(|r| r.status())
        .map_err(|e| format!("{} did not answer: {e}.", capital(peer)));
    drop(sender);
    driver.abort();
    res
}
