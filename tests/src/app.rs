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
