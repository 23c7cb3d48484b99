// The page in real headless Chromium (`CHROMIUM`, else Debian's /usr/bin/chromium; driven by
// playwright-core): a browser for the suite, a page on an app that fails its test on any
// Content-Security-Policy violation, and the page's actions as a visitor does them.
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { chromium } from "playwright-core";

// Set by `cargo xtask test` (what `cargo xtask provision` found); Debian's path otherwise.
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
// Flags that work on a machine with no network: without the background-networking ones
// Chromium keeps trying to reach Google's hosts, and each attempt is refused.
const CHROMIUM_ARGS = [
  "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
  "--disable-background-networking", "--disable-component-update", "--disable-sync",
];

export async function launch() {
  assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: run \`cargo xtask provision\``);
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}

/**
 * A fresh page on `app`; dialogs are recorded (and dismissed), never ignored, and so are
 * Content-Security-Policy violations: the page's `securitypolicyviolation` events (recorded by a
 * script the browser runs before the page's, through DevTools, which the policy does not
 * govern) and the browser's console reports of a refusal. `close` fails the test if any
 * happened: the page must work under its own policy. `response` is the page's. Page errors
 * (an exception the page's script did not catch) fail it too. `prepare(page)`, if given, runs
 * before the page first loads (to add an init script, or listen from the very start).
 */
export async function open(browser, app, options = {}, prepare = null) {
  const context = await browser.newContext(options);
  const page = await context.newPage();
  const dialogs = [];
  page.on("dialog", async (dialog) => { dialogs.push(dialog.message()); await dialog.dismiss(); });
  const refusals = [];
  page.on("console", (message) => {
    if (/Content Security Policy/i.test(message.text())) refusals.push(message.text());
  });
  const errors = [];
  page.on("pageerror", (error) => errors.push(error.message));
  await page.addInitScript(() => {
    window.__violations = [];
    document.addEventListener("securitypolicyviolation", (event) => {
      window.__violations.push(`${event.effectiveDirective} refused ${event.blockedURI || "(inline)"}: ${event.sample}`);
    });
  });
  await prepare?.(page);
  const response = await page.goto(app.url("/"));
  const violations = async () => [...(await page.evaluate(() => window.__violations)), ...refusals];
  const close = async () => {
    assert.deepEqual(await violations(), [], "the page broke its own Content-Security-Policy");
    assert.deepEqual(errors, [], "the page's script threw");
    await context.close();
  };
  return { page, context, response, dialogs, errors, violations, close, discard: () => context.close() };
}

/** The two buttons, and what each calls. */
export const KINDS = {
  wait: { button: "#fire", detail: "#wait-detail", big: "#wait-ms", path: "/api/wait-until" },
  awaited: { button: "#fire-awaited", detail: "#awaited-detail", big: "#awaited-ms", path: "/api/wait-until?await=1" },
};

const isCall = (kind) => (response) => new URL(response.url()).pathname + new URL(response.url()).search === KINDS[kind].path;

/** Whether `kind`'s button waits for its answer (aria-disabled: a busy button keeps the focus). */
export const isBusy = async (page, kind) => (await page.getAttribute(KINDS[kind].button, "aria-disabled")) === "true";

/** Waits until `kind`'s panel has settled: its button free, and its detail line ok, warn or bad. */
export async function settled(page, kind) {
  const { button, detail } = KINDS[kind];
  await page.waitForFunction(([button, detail]) =>
    document.querySelector(button).getAttribute("aria-disabled") === "false"
    && /\b(ok|warn|bad)\b/.test(document.querySelector(detail).className), [button, detail]);
}

/** Waits until the list shows the record `id` (compared as text: no selector to escape). */
export const listed = (page, id) => page.waitForFunction((id) =>
  [...document.querySelectorAll("#recent li")].some((li) => li.dataset.id === id), id);

/**
 * Does `act` (a click by default) on `kind`'s button and waits for the answer and for the panel
 * to settle; returns the answer's status and body (null when it was not JSON). A fire that
 * succeeded (its record seen, or stored before the answer) also waits for the list to show it:
 * the page loads the list again only after it has shown the answer in the panel, and a poll
 * that saw the record may be overtaken by a newer load still in flight.
 */
export async function fire(page, kind = "wait", act = () => page.click(KINDS[kind].button)) {
  const [response] = await Promise.all([page.waitForResponse(isCall(kind)), act()]);
  const body = await response.json().catch(() => null);
  await settled(page, kind);
  const ok = /\bok\b/.test(await page.getAttribute(KINDS[kind].detail, "class"));
  if (response.status() === 200 && ok && typeof body?.id === "string") await listed(page, body.id);
  return { status: response.status(), body, id: body?.id };
}

export const listIds = (page) => page.$$eval("#recent li", (items) => items.map((li) => li.dataset.id));

/** The history, newest first: number, kind, response time text, outcome text. */
export const historyRows = (page) => page.$$eval("#history li", (items) => items.map((li) => ({
  n: Number(li.dataset.n),
  kind: li.dataset.kind,
  outcome: li.dataset.outcome,
  id: li.dataset.id,
  ms: li.querySelector(".h-ms").textContent,
  text: li.querySelector(".h-outcome").textContent,
})));

/** Chart marks, in drawing order (fire order): kind, fire number, and whether it is hollow. */
export const chartMarks = (page) => page.$$eval("#chart .mark", (marks) => marks.map((mark) => ({
  kind: mark.classList.contains("wait") ? "wait" : mark.classList.contains("awaited") ? "awaited" : "?",
  shape: mark.tagName,
  n: Number(mark.dataset.n),
  failed: mark.classList.contains("failed"),
})));

/** No element wider than the viewport: no sideways scrolling. */
export const overflow = (page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
