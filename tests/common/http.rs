//! Just enough HTTP/1.1 for a thousand concurrent API clients on a few
//! threads: requests with a bearer token on a kept-alive connection, answers
//! with a Content-Length. Used by `tests/load.rs` and the benchmark harness
//! (`examples/bench`), where a thousand blocking clients would take the CPU
//! from the daemon they measure.

use serde_json::Value;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// One keep-alive HTTP/1.1 connection of one client.
pub struct Connection {
    address: String,
    token: String,
    /// `None` until connected, and after the server closed it.
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    pub fn new(address: &str, token: &str) -> Connection {
        Connection {
            address: address.to_string(),
            token: token.to_string(),
            stream: None,
        }
    }

    /// Whether the connection is open (it is opened again by the next request).
    pub fn is_connected(&self) -> bool {
        self.stream.is_some()
    }

    /// One request; the status and body, or what went wrong.
    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<(u16, Vec<u8>), String> {
        let answer =
            tokio::time::timeout(Duration::from_secs(90), self.exchange(method, path, body))
                .await
                .unwrap_or_else(|_| Err("no answer within 90 s".into()));
        if answer.is_err() {
            self.stream = None;
        }
        answer
    }

    async fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: Option<(&str, &[u8])>,
    ) -> Result<(u16, Vec<u8>), String> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.address)
                .await
                .map_err(|e| format!("connect: {e}"))?;
            stream.set_nodelay(true).unwrap();
            self.stream = Some(BufReader::new(stream));
        }
        let stream = self.stream.as_mut().unwrap();
        let mut request = format!(
            "{method} {path} HTTP/1.1\r\nHost: eakte\r\nAuthorization: Bearer {}\r\n",
            self.token
        );
        if let Some((content_type, bytes)) = body {
            request.push_str(&format!(
                "Content-Type: {content_type}\r\nContent-Length: {}\r\n",
                bytes.len()
            ));
        }
        request.push_str("\r\n");
        let mut bytes = request.into_bytes();
        bytes.extend_from_slice(body.map_or(&[][..], |b| b.1));
        let fail = |what: &str, e: std::io::Error| format!("{method} {path}: {what}: {e}");
        stream
            .get_mut()
            .write_all(&bytes)
            .await
            .map_err(|e| fail("send", e))?;
        let mut status = String::new();
        stream
            .read_line(&mut status)
            .await
            .map_err(|e| fail("status", e))?;
        let code: u16 = status
            .split(' ')
            .nth(1)
            .and_then(|c| c.parse().ok())
            .ok_or_else(|| format!("{method} {path}: no status line ({status:?})"))?;
        let (mut length, mut close) = (0usize, false);
        loop {
            let mut header = String::new();
            stream
                .read_line(&mut header)
                .await
                .map_err(|e| fail("header", e))?;
            let header = header.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().map_err(|_| "bad length".to_string())?;
                } else if name.eq_ignore_ascii_case("connection") {
                    close = value.trim().eq_ignore_ascii_case("close");
                }
            }
        }
        let mut answer = vec![0; length];
        stream
            .read_exact(&mut answer)
            .await
            .map_err(|e| fail("body", e))?;
        if close {
            self.stream = None;
        }
        Ok((code, answer))
    }

    /// GET `path`, which must answer 200 with JSON.
    pub async fn get_json(&mut self, path: &str) -> Value {
        let (status, body) = self.request("GET", path, None).await.expect(path);
        assert_eq!(status, 200, "{path}: {}", String::from_utf8_lossy(&body));
        serde_json::from_slice(&body).expect("JSON")
    }
}
