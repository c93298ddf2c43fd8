//! [`App`]: `hearth-agent app`, the tablet app, running on a loopback port
//! for the browser tests, killed (SIGKILL) and restarted on demand.

use std::io::{BufRead, BufReader};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use crate::agent::Agent;
use crate::browser::free_port;

/// A running `hearth-agent app` and the address it printed.
pub struct App {
    child: Option<Child>,
    port: u16,
    open: String,
}

impl App {
    /// Starts the app for `agent`'s store on a free loopback port.
    pub fn start(agent: &Agent) -> Self {
        Self::start_on(agent, free_port())
    }

    /// Starts the app on `port` (the same port again after a kill, so
    /// that the browser comes back to the same origin).
    pub fn start_on(agent: &Agent, port: u16) -> Self {
        let listen = format!("127.0.0.1:{port}");
        let mut child = agent
            .command(&["app", "--listen", &listen])
            // The worker types the passphrase into the unlock screen.
            .env_remove("HEARTH_PASSPHRASE")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start hearth-agent app");
        let stdout = child.stdout.take().expect("piped stdout");
        let (tx, rx) = mpsc::channel();
        // Reads every line, so that the app never blocks on a full pipe.
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                let _ = tx.send(line);
            }
        });
        let first = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("hearth-agent app printed its first line within 30 s");
        let open = first
            .strip_prefix("open ")
            .unwrap_or_else(|| panic!("the app's first line is not `open http://…`: {first:?}"))
            .trim()
            .to_string();
        let expected = format!("http://{listen}/");
        assert!(
            open.starts_with(&expected),
            "the app printed {open:?}, not an address under {expected}"
        );
        Self {
            child: Some(child),
            port,
            open,
        }
    }

    /// The URL the app printed on its first line (`open …`).
    pub fn open_url(&self) -> &str {
        &self.open
    }

    /// `http://127.0.0.1:PORT`, for building paths.
    pub fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// The port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Kills the app with SIGKILL: no shutdown, no flush, as a dead
    /// battery would.
    pub fn kill9(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts it again on the same port after [`App::kill9`].
    pub fn restart(&mut self, agent: &Agent) {
        assert!(self.child.is_none(), "the app is still running");
        *self = Self::start_on(agent, self.port);
    }
}

impl Drop for App {
    fn drop(&mut self) {
        self.kill9();
    }
}

/// A response read by [`App::raw`]: status, headers (lower-cased names),
/// body.
#[derive(Debug)]
pub struct RawResponse {
    /// The status code.
    pub status: u16,
    /// Each header as (lower-cased name, value).
    pub headers: Vec<(String, String)>,
    /// The body, as text.
    pub body: String,
}

impl RawResponse {
    /// The first value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `name=value` part of the session cookie it sets, if any.
    pub fn session_cookie(&self) -> Option<String> {
        self.headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| v.split(';').next())
            .find(|pair| pair.starts_with("hearth_session="))
            .map(str::to_string)
    }

    /// The value of the hidden `csrf` field in the page, if any.
    pub fn csrf_field(&self) -> Option<String> {
        let at = self.body.find("name=\"csrf\"")?;
        let tag_start = self.body[..at].rfind('<')?;
        let tag_end = at + self.body[at..].find('>')?;
        let tag = &self.body[tag_start..tag_end];
        let value = tag.split("value=\"").nth(1)?;
        Some(value.split('"').next()?.to_string())
    }
}

impl App {
    /// Sends `head` (a request line and headers, without the final blank
    /// line; `Connection: close` and the body's length are added) and
    /// `body` over a fresh connection, exactly as written: the Host,
    /// Origin and Cookie headers are the caller's, so a test can send
    /// what a hostile page or program would.
    pub fn raw(&self, head: &str, body: &str) -> RawResponse {
        use std::io::{Read, Write};
        let mut stream =
            std::net::TcpStream::connect(("127.0.0.1", self.port)).expect("connect to the app");
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .unwrap();
        let request = format!(
            "{}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            head.trim_end().replace('\n', "\r\n"),
            body.len()
        );
        stream.write_all(request.as_bytes()).expect("send");
        let mut bytes = Vec::new();
        stream.read_to_end(&mut bytes).expect("read the response");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP response: {text:?}"));
        let headers = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
            .collect();
        RawResponse {
            status,
            headers,
            body: body.to_string(),
        }
    }
}
