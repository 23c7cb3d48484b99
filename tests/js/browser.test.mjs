// The page in real headless Chromium (`CHROMIUM`, else Debian's /usr/bin/chromium; driven by playwright-core),
// against the real binary: `WAIT_UNTIL_BIN` (set by `cargo xtask test`). A missing binary or
// browser fails the suite; nothing is skipped.
//
// The binary serves the page with its Content-Security-Policy (src/security.rs), so every flow
// here runs under the policy, and each page is closed only once it has reported no violation.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";
import { startApp } from "./support/app.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Set by `cargo xtask test` (what `cargo xtask provision` found); Debian's path otherwise.
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Screenshots go to Cargo's target directory (`WAIT_UNTIL_ARTIFACTS`, set by `cargo xtask test`).
const ARTIFACTS = process.env.WAIT_UNTIL_ARTIFACTS || join(ROOT, "target");
// Flags that work on a machine with no network: without the background-networking ones
// Chromium keeps trying to reach Google's hosts, and each attempt is refused.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

let browser;

before(async () => {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`cargo xtask provision\``);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
});

/**
 * A fresh page on a fresh app; dialogs are recorded (and dismissed), never ignored, and so are
 * Content-Security-Policy violations: the page's `securitypolicyviolation` events (recorded by a
 * script the browser runs before the page's, through DevTools, which the policy does not
 * govern) and the browser's console reports of a refusal. `close` fails the test if any
 * happened: the page must work under its own policy. `response` is the page's.
 */
async function open(app, options = {}) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });
  const refusals = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refusals.push(message.text());
  });
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.effectiveDirective} refused ${event.blockedURI || "(inline)"}: ${event.sample}`);
    });
  });
  const response = await page.goto(app.url("/"));
  const violations = async () => [...(await page.evaluate(() => window.__violations)), ...refusals];
  const close = async () => {
    assert.deepEqual(await violations(), [], "the page broke its own Content-Security-Policy");
    await context.close();
  };
  return { page, response, dialogs, violations, close, discard: () => context.close() };
}

/** Clicks Fire and waits for the status to settle; returns the id the API answered with. */
async function clickFire(page) {
  const [response] = await Promise.all([
    page.waitForResponse((r) => r.url().endsWith("/api/wait-until")),
    page.click("#fire"),
  ]);
  const { id } = await response.json();
  await page.waitForFunction(() => !document.querySelector("#fire").disabled);
  return id;
}

const listIds = (page) => page.$$eval("#recent li", (items) => items.map((li) => li.dataset.id));

test("a fresh store shows the empty state and says it is in memory", async () => {
  const app = await startApp();
  try {
    const { page, close } = await open(app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    assert.equal(await page.textContent("#storage"), "Storage: memory");
    assert.match(await page.textContent("#storage-hint"), /records live in this process only/);
    assert.equal((await listIds(page)).length, 0);
    await close();
  } finally {
    await app.stop();
  }
});

test("a click on Fire adds the record with the id of the response and shows both timings", async () => {
  const app = await startApp();
  try {
    const { page, close } = await open(app);
    const id = await clickFire(page);
    assert.match(await page.textContent("#status"), /^responded in \d+ ms · stored \d+ ms later$/);
    assert.deepEqual(await listIds(page), [id]);
    const item = page.locator(`#recent li[data-id="${id}"]`);
    assert.equal(await item.locator(".method").textContent(), "GET");
    assert.match(await item.locator(".ua").textContent(), /HeadlessChrome|Chrome/);
    await close();
  } finally {
    await app.stop();
  }
});

test("Fire works from the keyboard", async () => {
  const app = await startApp();
  try {
    const { page, close } = await open(app);
    await page.keyboard.press("Tab");
    assert.equal(await page.evaluate(() => document.activeElement.id), "fire");
    await page.keyboard.press("Enter");
    await page.waitForSelector("#status.ok");
    assert.equal((await listIds(page)).length, 1);
    await close();
  } finally {
    await app.stop();
  }
});

test("twelve fires keep the ten newest, newest first", async () => {
  const app = await startApp();
  try {
    const { page, close } = await open(app);
    const fired = [];
    for (let i = 0; i < 12; i++) fired.push(await clickFire(page));
    assert.deepEqual(await listIds(page), fired.slice(2).reverse());
    await close();
  } finally {
    await app.stop();
  }
});

test("countries show as flags named by their code, unknown ones as a placeholder", async () => {
  const app = await startApp();
  try {
    for (const country of ["FR", "JP", "BR"]) await app.fire({ "x-vercel-ip-country": country });
    await app.fire({ "x-vercel-ip-country": "not a country" });
    const { page, close } = await open(app);
    await page.waitForSelector("#recent li >> nth=3");
    const flags = await page.$$eval("#recent .flag", (spans) =>
      spans.map((s) => [s.getAttribute("aria-label"), s.getAttribute("title"), s.textContent]));
    assert.deepEqual(flags, [
      ["Country unknown", "Country unknown", "🌐"],
      ["Country: BR", "BR", "🇧🇷"],
      ["Country: JP", "JP", "🇯🇵"],
      ["Country: FR", "FR", "🇫🇷"],
    ]);
    await close();
  } finally {
    await app.stop();
  }
});

test("hostile user agents render as text and run nothing", async () => {
  const app = await startApp();
  const hostile = [
    "<img src=x onerror=alert(1)>",
    "<script>window.__pwned = true; alert(2)</script>",
    "\"><svg onload=alert(3)>",
    "javascript:alert(4)",
    "{\"userAgent\":\"</ol><b>bold</b>\"}",
  ];
  try {
    for (const userAgent of hostile) await app.fire({ "user-agent": userAgent });
    const { page, dialogs, close } = await open(app);
    await page.waitForSelector(`#recent li >> nth=${hostile.length - 1}`);
    const shown = await page.$$eval("#recent .ua", (nodes) => nodes.map((n) => n.textContent));
    assert.deepEqual(shown, [...hostile].reverse());
    assert.equal(await page.$$eval("#recent img, #recent svg, #recent script, #recent b", (n) => n.length), 0);
    await page.waitForTimeout(300); // time for an injected handler to fire, if one existed
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(dialogs, []);
    await close();
  } finally {
    await app.stop();
  }
});

test("the policy is enforced: markup injected into the page runs nothing, and is reported", async () => {
  // First, on a page without the policy: the same injections run in this browser, so their
  // silence on ours is the policy's doing, not theirs.
  const inject = () => {
    document.body.insertAdjacentHTML("beforeend", '<img src="data:," onerror="window.__ran.push(\'onerror\')">');
    const script = document.createElement("script");
    script.textContent = "window.__ran.push('script')";
    document.body.append(script);
    // From a timer: code run by DevTools itself may always eval, code the page runs may not.
    setTimeout(() => { try { eval("window.__ran.push('eval')"); } catch { /* refused */ } });
  };
  const ranAfter = async (page) => {
    await page.evaluate(() => { window.__ran = []; });
    await page.evaluate(inject);
    await page.waitForTimeout(300); // time for an event handler to fire, if one may
    return (await page.evaluate(() => window.__ran)).sort();
  };
  const bare = await browser.newPage();
  await bare.setContent("<!doctype html><title>no policy</title><body></body>");
  assert.deepEqual(await ranAfter(bare), ["eval", "onerror", "script"]);
  await bare.close();

  const app = await startApp();
  try {
    const { page, response, dialogs, violations, discard } = await open(app);
    const headers = response.headers();
    const policy = headers["content-security-policy"] ?? "";
    assert.match(policy, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.equal(headers["x-frame-options"], "DENY");
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.equal(headers["referrer-policy"], "no-referrer");
    await page.waitForSelector("#recent-message:has-text('No requests yet')");

    assert.deepEqual(await ranAfter(page), []);
    assert.deepEqual(dialogs, []);
    // And the browser said so: the listener that holds every other test to "no violation" works.
    const seen = (await violations()).join("\n");
    for (const directive of ["script-src-attr", "script-src-elem", "script-src"]) {
      assert.match(seen, new RegExp(`^${directive} refused`, "m"), seen);
    }
    await discard();
  } finally {
    await app.stop();
  }
});

test("a 503 from /api/recent shows the server's message", async () => {
  const app = await startApp({ WAIT_UNTIL_STORE: "upstash" });
  try {
    const { page, close } = await open(app);
    await page.waitForSelector("#recent-message.bad");
    const message = await page.textContent("#recent-message");
    assert.match(message, /^Could not load recent requests: storage is not configured: set KV_REST_API_URL/);
    await close();
  } finally {
    await app.stop();
  }
});

test("the page reads well on a phone and in dark mode (screenshots in the target directory)", async () => {
  const app = await startApp();
  try {
    const agents = [
      ["FR", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"],
      ["JP", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"],
      ["", "curl/8.5.0"],
      ["BR", "<img src=x onerror=alert(1)>"],
    ];
    for (const [country, ua] of agents) {
      await app.fire(country ? { "x-vercel-ip-country": country, "user-agent": ua } : { "user-agent": ua });
    }
    mkdirSync(ARTIFACTS, { recursive: true });
    const shots = [
      ["ui.png", { viewport: { width: 900, height: 760 } }],
      ["ui-dark.png", { viewport: { width: 900, height: 760 }, colorScheme: "dark" }],
      ["ui-mobile.png", { viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 }],
    ];
    for (const [file, options] of shots) {
      const { page, close } = await open(app, options);
      await clickFire(page);
      // Nothing may be wider than the viewport: no sideways scrolling at 360 px.
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      assert.ok(overflow <= 0, `${file}: the page is ${overflow}px wider than the viewport`);
      await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
      await close();
    }
  } finally {
    await app.stop();
  }
});
