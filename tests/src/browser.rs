//! [`Browser`]: a real Chromium, headless, driven over WebDriver
//! (Debian's `chromedriver`, through `fantoccini`), for the tablet app's
//! browser tests (`tests/tests/browser/`).
//!
//! - One `chromedriver` and one browser session for the whole test binary,
//!   with a portrait-tablet viewport of [`WIDTH`] x [`HEIGHT`] CSS pixels,
//!   or the manager's desktop one ([`Viewport::Desktop`], for the web app
//!   on `hearth-server serve`, whose self-signed certificate the session
//!   accepts: `acceptInsecureCerts`, harmless for the tablet app's plain
//!   loopback HTTP).
//! - Every tap (a click or a field focused to type into) goes through one
//!   counter, so a test can assert how many taps a task takes.
//! - [`Browser::check_screen`] runs axe-core (the pinned `axe.min.js` that
//!   `.ci/run` fetches, at `HEARTH_AXE_JS`) on the page and fails on any
//!   `serious` or `critical` violation, then saves a screenshot to
//!   `docs/screenshots/<screen>.png`.
//! - [`Browser::launch`] returns `None`, with a loud message, when the
//!   browser, its driver or axe-core is missing and `CI` is not `true`;
//!   under `CI=true` a missing piece is a failure.
//!
//! The app itself ([`crate::app::App`]) is a separate process per test.

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::wd::{PrintConfiguration, PrintOrientation};
use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;
use serde_json::{Value, json};

/// The viewport's width in CSS pixels: a portrait tablet.
pub const WIDTH: u64 = 800;
/// The viewport's height in CSS pixels.
pub const HEIGHT: u64 = 1280;
/// The manager's desktop viewport's width in CSS pixels.
pub const DESKTOP_WIDTH: u64 = 1280;
/// The manager's desktop viewport's height in CSS pixels.
pub const DESKTOP_HEIGHT: u64 = 900;

/// Which screen the pages are shown on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Viewport {
    /// A portrait tablet, [`WIDTH`] x [`HEIGHT`]: the tablet app.
    Tablet,
    /// A desktop, [`DESKTOP_WIDTH`] x [`DESKTOP_HEIGHT`]: the manager's web app.
    Desktop,
}

impl Viewport {
    /// Its width and height in CSS pixels.
    pub const fn size(self) -> (u64, u64) {
        match self {
            Self::Tablet => (WIDTH, HEIGHT),
            Self::Desktop => (DESKTOP_WIDTH, DESKTOP_HEIGHT),
        }
    }
}

/// The axe-core version `.ci/run` pins; the injected script must be it.
pub const AXE_VERSION: &str = "4.14.1";

/// How long to wait for an element or a condition before failing.
const WAIT: Duration = Duration::from_secs(15);

/// What is needed on the machine, found or not.
struct Needs {
    chromium: Option<PathBuf>,
    chromedriver: Option<PathBuf>,
    axe: Option<PathBuf>,
}

impl Needs {
    fn find() -> Self {
        let axe = std::env::var_os("HEARTH_AXE_JS")
            .map(PathBuf::from)
            .or_else(|| {
                std::env::var_os("HOME").map(|home| {
                    Path::new(&home).join(format!(".cache/hearth/axe-{AXE_VERSION}.min.js"))
                })
            })
            .filter(|p| p.is_file());
        Self {
            chromium: which("chromium"),
            chromedriver: which("chromedriver"),
            axe,
        }
    }

    fn missing(&self) -> Vec<&'static str> {
        let mut missing = Vec::new();
        if self.chromium.is_none() {
            missing.push("chromium (apt-get install chromium)");
        }
        if self.chromedriver.is_none() {
            missing.push("chromedriver (apt-get install chromium-driver)");
        }
        if self.axe.is_none() {
            missing.push("axe-core (HEARTH_AXE_JS, fetched by .ci/run)");
        }
        missing
    }
}

/// The first executable called `name` on `PATH`.
fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name))
        .find(|p| p.is_file())
}

/// Whether this run is CI's (`CI=true`), where nothing may be skipped.
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A headless Chromium session, its `chromedriver`, and the tap counter.
pub struct Browser {
    rt: tokio::runtime::Runtime,
    client: Option<Client>,
    driver: Child,
    axe_js: String,
    taps: u32,
    screenshots: PathBuf,
    viewport: Viewport,
}

impl Browser {
    /// Starts `chromedriver` and a headless Chromium at the tablet's size.
    /// `None` (after a loud message) when something is missing outside CI.
    pub fn launch() -> Option<Self> {
        let needs = Needs::find();
        let missing = needs.missing();
        if !missing.is_empty() {
            let banner = format!(
                "\n{line}\nBROWSER TESTS NOT RUN: missing {}.\n.ci/run installs them.\n{line}\n",
                missing.join(", "),
                line = "!".repeat(72)
            );
            assert!(
                !in_ci(),
                "{banner}(CI=true: a missing browser is a failure)"
            );
            eprintln!("{banner}");
            return None;
        }
        let axe_path = needs.axe.expect("checked");
        let axe_js = std::fs::read_to_string(&axe_path)
            .unwrap_or_else(|e| panic!("read {}: {e}", axe_path.display()));
        let port = free_port();
        let driver = Command::new(needs.chromedriver.expect("checked"))
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromedriver");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let mut browser = Self {
            rt,
            client: None,
            driver,
            axe_js,
            taps: 0,
            screenshots: Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/screenshots"),
            viewport: Viewport::Tablet,
        };
        wait_listening(SocketAddr::from(([127, 0, 0, 1], port)));
        let chromium = needs.chromium.expect("checked");
        let client = browser.rt.block_on(connect(port, &chromium));
        browser.client = Some(client);
        browser.size_viewport();
        Some(browser)
    }

    fn client(&self) -> &Client {
        self.client.as_ref().expect("the session is open")
    }

    /// Shows the pages on `viewport` from now on (resizing the window if
    /// it is not that size already).
    pub fn use_viewport(&mut self, viewport: Viewport) {
        if self.viewport != viewport {
            self.viewport = viewport;
            self.size_viewport();
        }
    }

    /// The viewport the pages are shown on.
    pub fn viewport(&self) -> Viewport {
        self.viewport
    }

    /// Resizes the window so that the viewport (not the window) is the
    /// size of [`Browser::use_viewport`]'s.
    fn size_viewport(&mut self) {
        let (width, height) = self.viewport.size();
        let mut target = (width as u32, height as u32);
        for _ in 0..5 {
            self.rt
                .block_on(self.client().set_window_size(target.0, target.1))
                .expect("set the window size");
            // The page sees the new size a moment after the window has it.
            std::thread::sleep(Duration::from_millis(100));
            let inner = self.js("return [window.innerWidth, window.innerHeight];", vec![]);
            let (w, h) = (inner[0].as_u64().unwrap(), inner[1].as_u64().unwrap());
            if (w, h) == (width, height) {
                return;
            }
            let adjust = |t: u32, want: u64, got: u64| (t as i64 + want as i64 - got as i64) as u32;
            target = (adjust(target.0, width, w), adjust(target.1, height, h));
        }
        panic!("could not size the viewport to {width}x{height}");
    }

    /// Opens `url`.
    pub fn goto(&mut self, url: &str) {
        self.rt
            .block_on(self.client().goto(url))
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    /// Forgets every cookie (of the current origin's host): each test's
    /// app is a new process on a new port, and cookies ignore ports.
    pub fn forget_cookies(&mut self) {
        self.rt
            .block_on(self.client().delete_all_cookies())
            .expect("delete cookies");
    }

    /// The page's URL now.
    pub fn url(&self) -> String {
        self.rt
            .block_on(self.client().current_url())
            .expect("the current URL")
            .to_string()
    }

    /// Runs `script` in the page (a function body; `arguments` are `args`).
    pub fn js(&self, script: &str, args: Vec<Value>) -> Value {
        self.rt
            .block_on(self.client().execute(script, args))
            .unwrap_or_else(|e| panic!("script failed: {e}\n{script}"))
    }

    /// The element `css` matches, waiting for it to appear.
    fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.rt
            .block_on(
                self.client()
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::Css(css)),
            )
            .unwrap_or_else(|e| panic!("no element {css:?} on {}: {e}", self.url()))
    }

    /// Whether an element matches `css` now (no waiting).
    pub fn exists(&self, css: &str) -> bool {
        !self
            .rt
            .block_on(self.client().find_all(Locator::Css(css)))
            .expect("find elements")
            .is_empty()
    }

    /// How many elements match `css` now.
    pub fn count(&self, css: &str) -> usize {
        self.rt
            .block_on(self.client().find_all(Locator::Css(css)))
            .expect("find elements")
            .len()
    }

    /// Waits until `check` holds of the page, for up to [`WAIT`]: after a
    /// tap that submits, the old page can still be showing for a moment.
    pub fn wait_until(&self, what: &str, check: impl Fn(&Self) -> bool) {
        let start = Instant::now();
        while !check(self) {
            assert!(
                start.elapsed() < WAIT,
                "not within {WAIT:?}: {what} (on {}):\n{}",
                self.url(),
                self.page_text()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits until an element matches `css`.
    pub fn wait_for(&self, css: &str) {
        self.find(css);
    }

    /// The visible text of the element `css` matches. A page that is
    /// still being replaced (a submit just tapped) can hand back an element
    /// that goes stale before its text is read: find it again, for up to
    /// [`WAIT`].
    pub fn text(&self, css: &str) -> String {
        let start = Instant::now();
        loop {
            match self.rt.block_on(self.find(css).text()) {
                Ok(text) => return text,
                Err(_) if start.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("the text of {css:?} on {}: {e}", self.url()),
            }
        }
    }

    /// The page's whole visible text.
    pub fn page_text(&self) -> String {
        self.text("body")
    }

    /// The `value` of the form control `css` matches.
    pub fn value(&self, css: &str) -> String {
        self.rt
            .block_on(self.find(css).prop("value"))
            .expect("the value")
            .unwrap_or_default()
    }

    /// Taps the element `css` matches (counted). A page still being
    /// replaced (a link or submit just tapped) can hand back an element
    /// that goes stale before the click lands: find it again, for up to
    /// [`WAIT`], as [`Browser::text`] does.
    pub fn tap(&mut self, css: &str) {
        self.taps += 1;
        let start = Instant::now();
        loop {
            match self.rt.block_on(self.find(css).click()) {
                Ok(_) => return,
                Err(e) if e.to_string().contains("stale element") && start.elapsed() < WAIT => {
                    std::thread::sleep(Duration::from_millis(100));
                }
                Err(e) => panic!("tap {css:?} on {}: {e}", self.url()),
            }
        }
    }

    /// Taps the button, link, label or summary whose text contains `text`
    /// (counted).
    pub fn tap_text(&mut self, text: &str) {
        assert!(!text.contains('"'), "tap_text takes text without quotes");
        let xpath = format!(
            "//*[self::button or self::a or self::label or self::summary]\
             [contains(normalize-space(.), \"{text}\")]"
        );
        let element = self
            .rt
            .block_on(
                self.client()
                    .wait()
                    .at_most(WAIT)
                    .for_element(Locator::XPath(&xpath)),
            )
            .unwrap_or_else(|e| panic!("nothing to tap saying {text:?} on {}: {e}", self.url()));
        self.taps += 1;
        self.rt
            .block_on(element.click())
            .unwrap_or_else(|e| panic!("tap {text:?}: {e}"));
    }

    /// Taps the field `css` matches (counted) and types `text` into it,
    /// after clearing it.
    pub fn fill(&mut self, css: &str, text: &str) {
        let element = self.find(css);
        self.taps += 1;
        self.rt.block_on(async {
            element.click().await.expect("focus the field");
            element.clear().await.expect("clear the field");
            element.send_keys(text).await.expect("type");
        });
    }

    /// Types `text` at the end of the field `css` matches, without a tap
    /// (the field already has the focus, as after [`Browser::fill`]).
    pub fn type_more(&mut self, css: &str, text: &str) {
        let element = self.find(css);
        self.rt
            .block_on(element.send_keys(text))
            .expect("type more");
    }

    /// Taps recorded since the start or the last [`Browser::reset_taps`].
    pub fn taps(&self) -> u32 {
        self.taps
    }

    /// Counts a tap the page offers no element for: the worker getting
    /// back by hand (the address bar, a bookmark), which the test does
    /// with [`Browser::goto`].
    pub fn count_tap(&mut self) {
        self.taps += 1;
    }

    /// Starts counting taps from zero.
    pub fn reset_taps(&mut self) {
        self.taps = 0;
    }

    /// Checks the page with axe-core and saves its screenshot as
    /// `docs/screenshots/<screen>.png`.
    pub fn check_screen(&mut self, screen: &str) {
        self.axe(screen);
        self.screenshot(screen, None);
    }

    /// Like [`Browser::check_screen`], with the screenshot scrolled to the
    /// element `css` matches (a body map below the fold, say).
    pub fn check_screen_at(&mut self, screen: &str, css: &str) {
        self.axe(screen);
        self.screenshot(screen, Some(css));
    }

    /// Runs axe-core on the page; panics, listing them, on any `serious`
    /// or `critical` violation. Prints the lesser ones.
    pub fn axe(&mut self, screen: &str) {
        let loaded = self.js("return window.axe ? axe.version : null;", vec![]);
        let loaded = if loaded.is_null() {
            // WebDriver's own script evaluation is exempt from the page's
            // Content-Security-Policy, which forbids eval and inline
            // scripts: the source runs as the script itself.
            let script = format!("{}\n;return window.axe ? axe.version : null;", self.axe_js);
            self.js(&script, vec![])
        } else {
            loaded
        };
        assert_eq!(
            loaded.as_str(),
            Some(AXE_VERSION),
            "axe-core {AXE_VERSION} did not load on {screen}"
        );
        let result = self
            .rt
            .block_on(self.client().execute_async(AXE_RUN, vec![]))
            .unwrap_or_else(|e| panic!("axe.run on {screen}: {e}"));
        let violations = result.as_array().expect("axe violations, an array");
        let mut serious = Vec::new();
        for v in violations {
            let impact = v["impact"].as_str().unwrap_or("none");
            let line = format!(
                "  [{impact}] {}: {} ({} nodes: {})",
                v["id"].as_str().unwrap_or("?"),
                v["help"].as_str().unwrap_or(""),
                v["nodes"].as_array().map_or(0, Vec::len),
                v["targets"]
            );
            if matches!(impact, "serious" | "critical") {
                serious.push(line);
            } else {
                eprintln!("axe on {screen} (not failing):\n{line}");
            }
        }
        assert!(
            serious.is_empty(),
            "axe-core found serious or critical violations on {screen} ({}):\n{}",
            self.url(),
            serious.join("\n")
        );
    }

    /// Saves the viewport as `docs/screenshots/<screen>.png`, checking that
    /// it is the [`Viewport`]'s size: scrolled to the top, or to the element
    /// `at` matches.
    pub fn screenshot(&mut self, screen: &str, at: Option<&str>) {
        if let Some(css) = at {
            self.find(css);
        }
        // No caret blinking into the picture.
        self.js(
            "var at = arguments[0] && document.querySelector(arguments[0]); \
             if (at) { at.scrollIntoView({ block: 'start' }); } else { window.scrollTo(0, 0); } \
             if (document.activeElement) { document.activeElement.blur(); }",
            vec![json!(at)],
        );
        let png = self
            .rt
            .block_on(self.client().screenshot())
            .expect("a screenshot");
        let (width, height) = self.viewport.size();
        assert_eq!(
            png_size(&png),
            (width as u32, height as u32),
            "the screenshot of {screen} is not {width}x{height}"
        );
        std::fs::create_dir_all(&self.screenshots).expect("docs/screenshots");
        let path = self.screenshots.join(format!("{screen}.png"));
        std::fs::write(&path, png).unwrap_or_else(|e| panic!("write {}: {e}", path.display()));
    }

    /// The text of a JavaScript dialog (`alert`, `confirm`, `prompt`) open
    /// on the page, if one is.
    pub fn open_dialog(&self) -> Option<String> {
        match self.rt.block_on(self.client().get_alert_text()) {
            Ok(text) => Some(text),
            Err(e) if e.is_no_such_alert() => None,
            Err(e) => panic!("ask for an open dialog on the page: {e}"),
        }
    }

    /// Ends the session and `chromedriver`.
    pub fn close(mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(client) = self.client.take() {
            let _ = self.rt.block_on(client.close());
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

/// Runs axe on the whole document and hands back its violations, reduced
/// to what the report prints (`arguments[0]` is WebDriver's callback).
const AXE_RUN: &str = r#"
const done = arguments[arguments.length - 1];
axe.run(document, { resultTypes: ['violations'] }).then(function (r) {
  done(r.violations.map(function (v) {
    return { id: v.id, impact: v.impact, help: v.help, nodes: v.nodes,
             targets: v.nodes.slice(0, 5).map(function (n) { return n.target.join(' '); }) };
  }));
}, function (e) { done([{ id: 'axe-error', impact: 'critical', help: String(e), nodes: [], targets: [] }]); });
"#;

/// A new session on `chromedriver` at `port`: headless Chromium, no
/// sandbox (CI runs as root), no first-run noise, and the test servers'
/// self-signed certificates accepted (each test's `hearth-server` makes its
/// own; pinning it is the agent's job, not the browser's).
async fn connect(port: u16, chromium: &Path) -> Client {
    let caps = json!({
        "browserName": "chrome",
        "pageLoadStrategy": "normal",
        "acceptInsecureCerts": true,
        // A dialog a page opens (an injected `alert`, say) stays open for
        // the test to find (`Browser::open_dialog`) instead of being
        // dismissed unseen.
        "unhandledPromptBehavior": "ignore",
        "goog:chromeOptions": {
            "binary": chromium,
            "args": [
                "--headless=new",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-dev-shm-usage",
                "--hide-scrollbars",
                "--no-first-run",
                "--force-device-scale-factor=1",
                // UK dates in the screenshots, as on the workers' tablets.
                "--lang=en-GB",
                format!("--window-size={WIDTH},{HEIGHT}"),
            ],
        },
        "timeouts": { "script": 60_000, "pageLoad": 30_000 },
    });
    let Value::Object(caps) = caps else {
        unreachable!()
    };
    ClientBuilder::new(HttpConnector::new())
        .capabilities(caps)
        .connect(&format!("http://127.0.0.1:{port}"))
        .await
        .expect("a WebDriver session on chromedriver")
}

/// A loopback port free now (bound, then released).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free loopback port")
        .port()
}

/// Waits until something accepts connections at `addr`.
fn wait_listening(addr: SocketAddr) {
    let start = Instant::now();
    while TcpStream::connect_timeout(&addr, Duration::from_millis(200)).is_err() {
        assert!(start.elapsed() < WAIT, "nothing listens at {addr}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A PNG's width and height, from its IHDR chunk.
fn png_size(png: &[u8]) -> (u32, u32) {
    assert!(
        png.len() > 24 && png.starts_with(b"\x89PNG\r\n\x1a\n"),
        "not a PNG"
    );
    let be = |b: &[u8]| u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
    (be(&png[16..20]), be(&png[20..24]))
}

/// Printing, for the panel pack (issue 15).
impl Browser {
    /// The page as the browser prints it, through WebDriver's "Print Page":
    /// A4 landscape (the pack's `@page` size), backgrounds on, so that the
    /// PDF is what "Save as PDF" gives a panel.
    pub fn print_pdf(&self) -> Vec<u8> {
        let config = PrintConfiguration::builder()
            .orientation(PrintOrientation::Landscape)
            .background(true)
            .build()
            .expect("a valid print configuration");
        self.rt
            .block_on(self.client().print(config))
            .expect("WebDriver printed the page to PDF")
    }
}
