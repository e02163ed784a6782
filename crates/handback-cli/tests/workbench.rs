//! The workbench in a real browser: headless Chromium driven through chromedriver (W3C
//! WebDriver, spoken over HTTP). A commissioner's round: the board of a Rotherham letter, an
//! explanation, an observation changed and two added in the what-if panel (the board and the
//! tranche change), what it would take applied with one click, the timeline moved, a broken
//! evidence file uploaded (its problems beside its lines), and hostile text shown as text.
//!
//! Needs Debian's `chromium` and `chromium-driver` (`.ci/run` installs them). Without them the
//! test says so and passes, unless `HANDBACK_REQUIRE_BROWSER` is set, as `.ci/run` sets it, so CI
//! can never skip it silently. With `HANDBACK_SCREENSHOTS=DIR` it saves the screenshots the README
//! shows (`docs/workbench-*.png`).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::server::{agent, Server};
use common::{cli_json, handback, root, stdout, verdicts};
use serde_json::{json, Value};

const AUG_2016: &str = "fixtures/rotherham/2016-08-progress-letter.json";
const DIRECTIONS: &str = "fixtures/rotherham/directions.json";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

/// The first of `names` found on the `PATH`, or in `/usr/lib/chromium` (where Debian keeps the
/// browser itself).
fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH").unwrap_or_default();
    let mut dirs: Vec<PathBuf> = std::env::split_paths(&path).collect();
    dirs.push(PathBuf::from("/usr/lib/chromium"));
    names
        .iter()
        .flat_map(|n| dirs.iter().map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver on a free port, stopped when dropped.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start(binary: &Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(binary)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let url = format!("http://127.0.0.1:{port}");
        let driver = Driver { child, url };
        wait_for(Duration::from_secs(30), "chromedriver to start", || {
            agent()
                .get(&format!("{}/status", driver.url))
                .call()
                .ok()
                .and_then(|r| r.into_body().read_to_string().ok())
                .is_some_and(|b| b.contains("\"ready\":true"))
        });
        driver
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn wait_for(limit: Duration, what: &str, mut ready: impl FnMut() -> bool) {
    let start = Instant::now();
    while !ready() {
        assert!(start.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// One browser session: the few WebDriver commands the test needs.
struct Browser {
    base: String,
}

impl Browser {
    fn open(driver: &Driver, chromium: &Path) -> Browser {
        let capabilities = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": chromium,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1400,1000", "--force-device-scale-factor=1"],
            },
        }}});
        let answer = send("POST", &format!("{}/session", driver.url), Some(&capabilities));
        let id = answer["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {answer}"));
        Browser {
            base: format!("{}/session/{id}", driver.url),
        }
    }

    fn command(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        send(method, &format!("{}{path}", self.base), body)
    }

    fn go(&self, url: &str) {
        self.command("POST", "/url", Some(&json!({"url": url})));
    }

    /// Runs `script` (a function body; `arguments` holds `args`) and returns what it returns.
    fn run(&self, script: &str, args: &[Value]) -> Value {
        self.command(
            "POST",
            "/execute/sync",
            Some(&json!({"script": script, "args": args})),
        )
    }

    fn find(&self, css: &str) -> String {
        let found = self.command(
            "POST",
            "/element",
            Some(&json!({"using": "css selector", "value": css})),
        );
        found[ELEMENT]
            .as_str()
            .unwrap_or_else(|| panic!("no element `{css}`: {found}"))
            .to_string()
    }

    /// Clicks an element, scrolled to the middle of the window first, clear of the sticky
    /// header (as a user scrolls to what they want before clicking it).
    fn click(&self, css: &str) {
        let id = self.find(css);
        self.run(
            "arguments[0].scrollIntoView({block: 'center'})",
            &[json!({ELEMENT: id})],
        );
        self.command("POST", &format!("/element/{id}/click"), Some(&json!({})));
    }

    fn keys(&self, css: &str, text: &str) {
        let id = self.find(css);
        self.command(
            "POST",
            &format!("/element/{id}/value"),
            Some(&json!({"text": text})),
        );
    }

    fn text(&self, css: &str) -> String {
        let id = self.find(css);
        self.command("GET", &format!("/element/{id}/text"), None)
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// Waits until `script` returns true.
    fn until(&self, what: &str, script: &str, args: &[Value]) {
        wait_for(Duration::from_secs(30), what, || {
            self.run(script, args) == json!(true)
        });
    }

    /// Waits for an element.
    fn wait(&self, css: &str) {
        self.until(
            css,
            "return document.querySelector(arguments[0]) !== null",
            &[json!(css)],
        );
    }

    fn screenshot(&self, css: &str, to: &Path) {
        let id = self.find(css);
        self.run(
            "arguments[0].scrollIntoView({block: 'start'})",
            &[json!({ELEMENT: id})],
        );
        let png = self.command("GET", &format!("/element/{id}/screenshot"), None);
        std::fs::write(to, decode_base64(png.as_str().unwrap())).unwrap();
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = agent().delete(&self.base).call();
    }
}

/// Sends one WebDriver command; its `value`, or a panic with the driver's error.
fn send(method: &str, url: &str, body: Option<&Value>) -> Value {
    let response = match (method, body) {
        ("GET", _) => agent().get(url).call(),
        (_, Some(b)) => agent()
            .post(url)
            .header("Content-Type", "application/json")
            .send(b.to_string()),
        _ => agent().delete(url).call(),
    }
    .unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = response.status().as_u16();
    let text = response
        .into_body()
        .with_config()
        .limit(64 * 1024 * 1024)
        .read_to_string()
        .unwrap();
    let answer: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{e}: {text:.300}"));
    assert_eq!(status, 200, "{method} {url}: {answer}");
    answer["value"].clone()
}

fn decode_base64(text: &str) -> Vec<u8> {
    let value = |c: u8| -> u32 {
        match c {
            b'A'..=b'Z' => u32::from(c - b'A'),
            b'a'..=b'z' => u32::from(c - b'a') + 26,
            b'0'..=b'9' => u32::from(c - b'0') + 52,
            b'+' => 62,
            _ => 63,
        }
    };
    let clean: Vec<u8> = text
        .bytes()
        .filter(|c| !c.is_ascii_whitespace() && *c != b'=')
        .collect();
    let mut out = Vec::with_capacity(clean.len() * 3 / 4);
    for chunk in clean.chunks(4) {
        let mut n = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            n |= value(*c) << (18 - 6 * i);
        }
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    out
}

/// The verdicts the board shows (`selector`: `button.cell`), or those it marks as changed by
/// the scenario (`button.cell.changed`): (rule, function, outcome), sorted.
fn on_board(browser: &Browser, selector: &str) -> Vec<(String, String, String)> {
    let cells = browser.run(
        "return [...document.querySelectorAll('#board-body ' + arguments[0])].map(b => \
           ({rule: b.dataset.rule, function: b.dataset.function, outcome: b.dataset.outcome}))",
        &[json!(selector)],
    );
    sorted(verdicts(&cells, "outcome"))
}

fn board(browser: &Browser) -> Vec<(String, String, String)> {
    on_board(browser, "button.cell")
}

fn changed_on_board(browser: &Browser) -> Vec<(String, String, String)> {
    on_board(browser, "button.cell.changed")
}

fn sorted<T: Ord>(mut list: Vec<T>) -> Vec<T> {
    list.sort();
    list
}

/// Every verdict `handback assess` gives for the same evidence and date.
fn assessed(evidence: &str, as_of: Option<&str>) -> Vec<(String, String, String)> {
    let mut args = vec!["assess", evidence, "--format", "json"];
    if let Some(d) = as_of {
        args.extend(["--as-of", d]);
    }
    sorted(verdicts(&cli_json(&args)["results"], "outcome"))
}

/// The verdicts `handback whatif` says `--set` changes would change: (rule, function, after).
fn cli_diff(sets: &[&str]) -> Vec<(String, String, String)> {
    let mut args = vec!["whatif", AUG_2016, "--directions", DIRECTIONS, "--format", "json"];
    for s in sets {
        args.extend(["--set", s]);
    }
    sorted(verdicts(&cli_json(&args)["diff"]["outcomes"], "after"))
}

fn clear_changes(browser: &Browser) {
    browser.click("#clear-changes");
    browser.until(
        "no changes",
        "return document.querySelector('#diff').children.length === 0",
        &[],
    );
}

#[test]
fn a_commissioner_works_through_a_letter_in_a_real_browser() {
    let (Some(chromium), Some(chromedriver)) = (
        find(&["chromium", "chromium-browser", "google-chrome"]),
        find(&["chromedriver"]),
    ) else {
        assert!(
            std::env::var_os("HANDBACK_REQUIRE_BROWSER").is_none(),
            "HANDBACK_REQUIRE_BROWSER is set but chromium or chromedriver is missing \
             (apt-get install chromium chromium-driver)"
        );
        println!(
            "SKIPPED: the workbench browser test needs chromium and chromedriver \
             (apt-get install chromium chromium-driver; .ci/run installs them)"
        );
        return;
    };
    let shots = std::env::var_os("HANDBACK_SCREENSHOTS").map(|d| root().join(d));
    let server = Server::start(&[AUG_2016, "--directions", DIRECTIONS]);
    let driver = Driver::start(&chromedriver);
    let browser = Browser::open(&driver, &chromium);
    browser.go(&server.url);

    // The board: every verdict `assess` gives, in words, and nothing else.
    browser.wait("#board-body button.cell[data-rule='children-5']");
    browser.wait("#graph svg g.node");
    assert_eq!(board(&browser), assessed(AUG_2016, None));
    let cell = browser.text("#board-body button[data-rule='children-5']");
    assert!(cell.contains("not met"), "{cell}");
    // The plan from the Directions: phase 2, licensing awaiting the decision, nothing in the
    // tranche.
    let plan = browser.text("#plan-body");
    assert!(plan.contains("Phase 2"), "{plan}");
    assert!(browser.text("#tranche").contains("None"), "{plan}");
    if let Some(dir) = &shots {
        browser.command(
            "POST",
            "/window/rect",
            Some(&json!({"width": 1400, "height": 2600})),
        );
        browser.screenshot("#board", &dir.join("workbench-board.png"));
        browser.screenshot("#plan", &dir.join("workbench-plan.png"));
        browser.command(
            "POST",
            "/window/rect",
            Some(&json!({"width": 1400, "height": 1000})),
        );
    }

    // An explanation: the seed quote, the evidence used with its source, who judged.
    browser.click("#board-body button[data-rule='children-2']");
    browser.until(
        "the explanation",
        "return document.querySelector('#explain h2').textContent.startsWith('children-2')",
        &[],
    );
    let explanation = browser.text("#explain");
    let rules: Value = serde_json::from_str(&stdout(&handback(&["rules", "--format", "json"]))).unwrap();
    let quote = rules["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == "children-2")
        .unwrap()["quote"]
        .as_str()
        .unwrap()
        .to_string();
    let first_line = quote.lines().next().unwrap().trim();
    assert!(
        explanation.contains(first_line),
        "no quote `{first_line}` in {explanation}"
    );
    assert!(explanation.contains("Evidence used"), "{explanation}");
    assert!(explanation.contains("Lead Commissioner"), "{explanation}");
    // Keyboard: the explanation's heading has the focus, so a screen reader reads it next.
    assert_eq!(
        browser.run("return document.activeElement.id", &[]),
        json!("explain-title")
    );

    // What if: change an observation (performance management's service, judged not good enough)
    // to true. The board shows the scenario, and marks exactly the verdicts the CLI's diff names.
    browser.click("#observations tr[data-observation='aug-perf-mgmt'] button.change-observation");
    browser.wait("#observations tr.edit-row select.edit-value");
    browser.run(
        "const s = document.querySelector('#observations tr.edit-row select.edit-value'); s.value = 'true';",
        &[],
    );
    browser.click("#observations tr.edit-row button[type=submit]");
    browser.wait("#diff table.diff");
    let one = ["function.service_good_enough:performance-management=true@2016-08-11"];
    assert_eq!(changed_on_board(&browser), cli_diff(&one));
    assert!(!cli_diff(&one).is_empty());
    // Add two observations with the form: adult social care then meets its four tests, and the
    // tranche gains it, as the CLI says.
    for key in [
        "function.peer_review_assured",
        "function.quality_definitions_in_place",
    ] {
        browser.run(
            "document.querySelector('#add-key').value = arguments[0];
             document.querySelector('#add-key').dispatchEvent(new Event('change'));
             document.querySelector('#add-function').value = 'adult-social-care';
             document.querySelector('#add-value').value = 'true';
             document.querySelector('#add-date').value = '2016-08-11';",
            &[json!(key)],
        );
        browser.click("#add-form button[type=submit]");
        browser.until(
            "the change listed",
            "return [...document.querySelectorAll('#changes li')].some(li => li.textContent.includes(arguments[0]))",
            &[json!(key)],
        );
    }
    browser.until(
        "the tranche to change",
        "return document.querySelector('#tranche').textContent.includes('adult-social-care')",
        &[],
    );
    let three = [
        one[0],
        "function.peer_review_assured:adult-social-care=true@2016-08-11",
        "function.quality_definitions_in_place:adult-social-care=true@2016-08-11",
    ];
    assert_eq!(changed_on_board(&browser), cli_diff(&three));
    assert!(browser.text("#tranche").contains("added by the scenario"));
    assert!(browser.text("#diff").contains("+ adult-social-care"));
    if let Some(dir) = &shots {
        browser.command(
            "POST",
            "/window/rect",
            Some(&json!({"width": 1400, "height": 1400})),
        );
        browser.screenshot("#diff", &dir.join("workbench-whatif.png"));
        browser.screenshot(
            "#board section[data-set='return']",
            &dir.join("workbench-whatif-board.png"),
        );
        browser.command(
            "POST",
            "/window/rect",
            Some(&json!({"width": 1400, "height": 1000})),
        );
    }
    // The scenario's title is text too.
    browser.run(
        "const t = document.querySelector('#scenario-title');
         t.value = '<img src=x onerror=\"window.__handbackPwned = 1\">';
         t.dispatchEvent(new Event('change'));",
        &[],
    );
    browser.until(
        "the title shown",
        "return document.querySelector('#diff h3').textContent.includes('<img src=x')",
        &[],
    );
    // The base again: the board is what `assess` says.
    browser.click("input[name=view][value=base]");
    assert_eq!(board(&browser), assessed(AUG_2016, None));
    browser.click("input[name=view][value=scenario]");

    // What it would take, applied with one click.
    clear_changes(&browser);
    browser.run(
        "document.querySelector('#needs-target').value = 'function:adult-social-care'",
        &[],
    );
    browser.click("#needs-form button[type=submit]");
    browser.wait("#needs-result button.apply-option");
    browser.click("#needs-result button.apply-option");
    browser.until(
        "the option applied",
        "return document.querySelector('#tranche').textContent.includes('adult-social-care')",
        &[],
    );
    clear_changes(&browser);

    // A scenario file that extends another is refused alone, naming what is missing; the two
    // together are applied base first, and say what `whatif --scenario` says: nothing changes.
    let chain = root().join("fixtures/scenarios/agency-20-next-quarter.json");
    browser.keys("#load-scenario", chain.to_str().unwrap());
    browser.until(
        "the missing base named",
        "return document.querySelector('#diff').textContent.includes('extends mtfs-adopted.json: choose both files together')",
        &[],
    );
    let base = root().join("fixtures/scenarios/mtfs-adopted.json");
    browser.keys(
        "#load-scenario",
        &format!("{}\n{}", chain.to_str().unwrap(), base.to_str().unwrap()),
    );
    browser.until(
        "the chain applied",
        "return document.querySelectorAll('#changes li button').length === 4 &&
                document.querySelector('#diff').textContent.includes('Nothing changes')",
        &[],
    );
    let o = handback(&[
        "whatif",
        AUG_2016,
        "--directions",
        DIRECTIONS,
        "--scenario",
        chain.to_str().unwrap(),
    ]);
    assert!(stdout(&o).contains("Nothing changes"), "{}", stdout(&o));
    clear_changes(&browser);

    // The graph: a function's box is a button that finds its row in the plan and makes it the
    // target of what it would take.
    browser.click("#graph g.node[data-function='licensing']");
    browser.until(
        "the row selected",
        "return document.querySelector('#plan-body tr.selected')?.dataset.function === 'licensing'
             && document.querySelector('#needs-target').value === 'function:licensing'",
        &[],
    );

    // The timeline: back to the first date the evidence speaks of; the board is what `assess
    // --as-of` that date says.
    let first = browser.run("return document.querySelector('#timeline').min", &[]);
    assert_eq!(first, json!("0"));
    browser.keys("#timeline", "\u{E011}"); // Home: the keyboard moves it, as a user would
    let evidence: Value =
        serde_json::from_str(&std::fs::read_to_string(root().join(AUG_2016)).unwrap()).unwrap();
    let earliest = evidence["observations"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|o| [&o["date"], &o["period"]["from"]])
        .filter_map(Value::as_str)
        .min()
        .unwrap()
        .to_string();
    browser.until(
        "the timeline to move",
        "return document.querySelector('#about').textContent.includes('as of ' + arguments[0])",
        &[json!(earliest)],
    );
    assert_eq!(browser.text("#timeline-date"), earliest);
    assert_eq!(board(&browser), assessed(AUG_2016, Some(&earliest)));
    assert_ne!(assessed(AUG_2016, Some(&earliest)), assessed(AUG_2016, None));

    // Upload a broken evidence file: not loaded; every problem beside its line.
    let broken = root().join("fixtures/invalid/evidence/several-mistakes.json");
    browser.keys("#upload", broken.to_str().unwrap());
    browser.wait("#problems table.file-lines");
    let problems = browser.text("#problems");
    assert!(problems.contains("11 problems"), "{problems}");
    let line4 = browser.run(
        "return [...document.querySelectorAll('#problems tr.problem[data-line=\"4\"]')].map(r => r.textContent).join('\\n')",
        &[],
    );
    assert!(
        line4
            .as_str()
            .unwrap()
            .contains("unknown evidence key `children.agency_shar`"),
        "{line4}"
    );
    assert!(
        problems.contains("still shows 2016-08-progress-letter.json"),
        "{problems}"
    );

    // Hostile text: an id holding quotes and markup, refused, its message shown as text.
    let hostile_id = root().join("fixtures/invalid/evidence/hostile-id.json");
    browser.keys("#upload", hostile_id.to_str().unwrap());
    browser.until(
        "the hostile id's problem",
        "return document.querySelector('#problems').textContent.includes('onmouseover=\"window.__handbackPwned')",
        &[],
    );
    // Evidence holding `<script>` in a passage, a note, a judge's name and its council: loaded,
    // explained, and every one of them shown as text.
    let hostile = root().join("fixtures/evidence/hostile-text.json");
    browser.keys("#upload", hostile.to_str().unwrap());
    browser.until(
        "the hostile evidence",
        "return document.querySelector('#about').textContent.includes('Hostile \"Test\" <b>Council</b>')",
        &[],
    );
    browser.wait("#board-body button.cell[data-rule='children-5']");
    browser.click("#board-body button[data-rule='children-5']");
    browser.until(
        "the hostile explanation",
        "return document.querySelector('#explain').textContent.includes(\"<script>window.__handbackPwned = 'passage'</script>\")",
        &[],
    );
    let text = browser.text("#explain");
    assert!(text.contains("minutes \"quoted\" 'twice'.txt"), "{text}");
    assert!(text.contains("Lead \"Commissioner\" <script>"), "{text}");
    let ran = browser.run(
        "return [window.__handbackPwned === undefined,
                 document.querySelectorAll('main script, main img, main b, main i').length]",
        &[],
    );
    assert_eq!(ran, json!([true, 0]), "hostile text ran or became markup");
}
