// The page in real headless Chromium (support/page.mjs), against the real binary:
// `WAIT_UNTIL_BIN` (set by `cargo xtask test`). A missing binary, browser, redis-server or
// emulator fails the suite; nothing is skipped.
//
// The binary serves the page with its Content-Security-Policy (src/security.rs), so every flow
// here runs under the policy, and each page is closed only once it has reported no violation
// and no uncaught error.
//
// A few tests put `page.route` between the page and the app, as a test double: to hold an
// answer back (so that what happens meanwhile can be seen), or to answer what the real app never
// does (a non-JSON answer, a dropped connection, hostile JSON). Each says so where it does.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { startApp } from "./support/app.mjs";
import {
  launch, open, fire, settled, isBusy, listIds, historyRows, chartMarks, overflow, KINDS,
} from "./support/page.mjs";
import { startRedis, startEmulator } from "./support/storage.mjs";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
// Screenshots go to Cargo's target directory (`WAIT_UNTIL_ARTIFACTS`, set by `cargo xtask test`).
const ARTIFACTS = process.env.WAIT_UNTIL_ARTIFACTS || join(ROOT, "target");
const SOURCE_URL = "https://example.com/acme/wait-until";

// The labels, exactly.
const RESPONDED = String.raw`responded in (\d+) ms`;
const VISIBLE = new RegExp(String.raw`^${RESPONDED} · visible after (\d+) ms \(polled\)$`);
const STORED = new RegExp(String.raw`^${RESPONDED} · stored in (\d+(?:\.\d{1,2})?) ms on the server, before the response$`);
// What "stored in" measures, in the glossary and the detail's title.
const STORED_MEANS = "from taking the record to storage confirming it, including any wait behind a write already in flight";
const NOT_SEEN = new RegExp(String.raw`^${RESPONDED} · not seen within 8 s$`);
const NOT_CONFIGURED = "storage is not configured: set KV_REST_API_URL";

let browser;

// Routes by what the page calls: the plain fire and the awaited one differ only in the query.
const PLAIN = (url) => url.pathname === "/api/wait-until" && url.search === "";
const AWAITED = (url) => url.pathname === "/api/wait-until" && url.search === "?await=1";
const SOURCE = (url) => url.pathname === "/api/source";

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
});

/** Runs `body(app)` on a fresh app started with `env`, and stops the app whatever happens. */
async function withApp(env, body) {
  const app = await startApp(env);
  try {
    await body(app);
  } finally {
    await app.stop();
  }
}

const text = (page, selector) => page.textContent(selector);

/** A request a test double holds until the test calls `release()`: no fixed delay to outlast. */
function gate() {
  let release;
  const opened = new Promise((resolve) => { release = resolve; });
  return { opened, release };
}

/** Waits until `check()` (in this process) holds, or fails after `ms`. */
async function until(check, what, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The page's own resource timings (its clock, not this process's): path and query, start, end. */
const timings = (page) => page.evaluate(() => performance.getEntriesByType("resource").map((entry) => {
  const url = new URL(entry.name);
  return { path: url.pathname + url.search, start: entry.startTime, end: entry.responseEnd };
}));
const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
/** The history as this tab stored it (the page's sessionStorage). */
const storedHistory = (page) => page.evaluate(() => JSON.parse(sessionStorage.getItem("wait-until:fires:v1")));
/** The server's write time as the page shows it: as sent, to 0.01 ms, no trailing zeros. */
const shownWriteMs = (writeMs) => String(Number(writeMs.toFixed(2)));

test("a fresh store shows the empty states: no records, no fires, nothing failed, memory", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    assert.equal(await text(page, "#storage"), "Storage: memory");
    assert.match(await text(page, "#storage-hint"), /records live in this process only/);
    assert.equal((await listIds(page)).length, 0);
    for (const kind of ["wait", "awaited"]) {
      assert.equal(await text(page, KINDS[kind].detail), "Not fired yet.");
      assert.equal(await text(page, KINDS[kind].big), "–");
      assert.equal(await isBusy(page, kind), false);
    }
    assert.deepEqual(await historyRows(page), []);
    assert.match(await text(page, "#history-note"), /^No fires yet/);
    assert.equal(await text(page, "#failures"), "0 failed");
    assert.deepEqual(await chartMarks(page), []);
    assert.equal(await page.getAttribute("#chart", "aria-label"), "Response times: no fires yet.");
    assert.match(await text(page, "#chart"), /No fires yet/);
    assert.equal(await text(page, "#medians"), "Fire both kinds to compare their response times.");
    await close();
  });
});

test("Fire with waitUntil: the answer, then the record visible in the list, marked as yours", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    const { status, body, id } = await fire(page, "wait");
    assert.equal(status, 200);
    assert.equal(body.awaited, false);
    const [, responded, visible] = (await text(page, "#wait-detail")).match(VISIBLE) ?? [];
    assert.ok(responded, await text(page, "#wait-detail"));
    assert.equal(await text(page, "#wait-ms"), `${responded} ms`);
    // The title says what "visible after" bounds: the poll, not the write.
    assert.match(await page.getAttribute("#wait-detail", "title"), /polling of \/api\/recent first saw the record/);
    assert.match(await text(page, ".terms"), /visible after\s+from that answer until this page's polling.*an upper bound/s);
    assert.deepEqual(await historyRows(page), [
      { n: 1, kind: "wait", outcome: "seen", id, ms: `${responded} ms`, text: `visible after ${visible} ms (polled)` },
    ]);
    assert.deepEqual(await listIds(page), [id]);
    const item = page.locator(`#recent li[data-id="${id}"]`);
    assert.equal(await item.getAttribute("class"), "mine wait");
    assert.equal(await item.locator(".yours").textContent(), "yours · waitUntil");
    assert.equal(await item.locator(".method").textContent(), "GET");
    assert.match(await item.locator(".ua").textContent(), /HeadlessChrome|Chrome/);
    await close();
  });
});

test("each button waits only for its own answer, never for polling", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // Test double: the plain fire's answer is held until the test releases it, and then every
    // list load too, each time until released.
    const plainAnswer = gate();
    let listLoads = null;
    await page.route(PLAIN, async (route) => {
      await plainAnswer.opened;
      await route.continue();
    });
    await page.route("**/api/recent", async (route) => {
      if (listLoads) await listLoads.opened;
      await route.continue();
    });
    await page.click("#fire");
    assert.equal(await isBusy(page, "wait"), true);
    assert.equal(await text(page, "#wait-detail"), "Waiting for the answer…");
    assert.equal(await text(page, "#wait-ms"), "…");
    // The other kind is free meanwhile, and its answer comes first.
    assert.equal(await isBusy(page, "awaited"), false);
    await fire(page, "awaited");
    assert.match(await text(page, "#awaited-detail"), STORED);
    assert.equal(await isBusy(page, "wait"), true);
    listLoads = gate();
    plainAnswer.release();
    await page.waitForFunction(() => /waiting for the record/.test(document.querySelector("#wait-detail").textContent));
    // Answered: the button is free while the page still looks for the record.
    assert.equal(await isBusy(page, "wait"), false);
    assert.match(await text(page, "#wait-detail"), new RegExp(String.raw`^${RESPONDED} · waiting for the record…$`));
    listLoads.release();
    await settled(page, "wait");
    assert.match(await text(page, "#wait-detail"), VISIBLE);
    await close();
  });
});

test("Fire and await the write: the server's write time, and the record listed at once", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    const loads = [];
    page.on("request", (request) => { if (request.url().endsWith("/api/recent")) loads.push(request.url()); });
    const { status, body, id } = await fire(page, "awaited");
    assert.equal(status, 200);
    assert.equal(body.awaited, true);
    assert.equal(typeof body.writeMs, "number");
    const detail = await text(page, "#awaited-detail");
    const [, responded, writeMs] = detail.match(STORED) ?? [];
    assert.ok(responded, detail);
    assert.equal(writeMs, shownWriteMs(body.writeMs));
    assert.equal(await text(page, "#awaited-ms"), `${responded} ms`);
    // "Stored in" is the server's time in its write queue, not the bare write: both say so.
    assert.equal(await page.getAttribute("#awaited-detail", "title"), `Stored in: the server's time ${STORED_MEANS}.`);
    assert.match((await text(page, ".terms")).replace(/\s+/g, " "),
      new RegExp(`stored in the server's own time, before it answered, ${STORED_MEANS}\\.`));
    await page.waitForSelector(`#recent li[data-id="${id}"]`);
    const item = page.locator(`#recent li[data-id="${id}"]`);
    assert.equal(await item.getAttribute("class"), "mine awaited");
    assert.equal(await item.locator(".yours").textContent(), "yours · awaited");
    assert.deepEqual(await historyRows(page), [
      { n: 1, kind: "awaited", outcome: "stored", id, ms: `${responded} ms`, text: `stored in ${writeMs} ms on the server` },
    ]);
    // One load, and no polling: the record was there when the answer came.
    await page.waitForTimeout(500);
    assert.equal(loads.length, 1);
    assert.equal(await text(page, "#wait-detail"), "Not fired yet.");
    await close();
  });
});

test("each result is announced: the panels' details and the list's message are live regions, written in place", async () => {
  await withApp({}, async (app) => {
    const live = ["#wait-detail", "#awaited-detail", "#recent-message"];
    // Everything written into each live region from the start, and the very nodes that were there
    // first: a region replaced by a new node is not announced.
    const { page, close } = await open(browser, app, {}, (page) => page.addInitScript((live) => {
      window.__said = {};
      document.addEventListener("DOMContentLoaded", () => {
        window.__first = live.map((selector) => document.querySelector(selector));
        for (const selector of live) {
          const node = document.querySelector(selector);
          window.__said[selector] = [node.textContent];
          new MutationObserver(() => window.__said[selector].push(node.textContent))
            .observe(node, { childList: true, characterData: true, subtree: true });
        }
      });
    }, live));
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    for (const selector of live) {
      assert.equal(await page.getAttribute(selector, "aria-live"), "polite", selector);
      assert.equal(await page.$eval(selector, (node) => node.closest("[aria-hidden='true'], [hidden]")), null, selector);
    }
    for (const selector of ["#wait-detail", "#awaited-detail"]) assert.equal(await page.getAttribute(selector, "role"), "status");
    await fire(page, "wait");
    await fire(page, "awaited");
    const said = await page.evaluate(() => window.__said);
    const same = await page.evaluate((live) => live.every((selector, i) => document.querySelector(selector) === window.__first[i]), live);
    assert.equal(same, true, "a live region was replaced");
    // Each region said what its element now shows, and what led there.
    for (const selector of live) assert.equal(said[selector].at(-1), await text(page, selector), selector);
    const wait = said["#wait-detail"];
    assert.equal(wait[0], "Not fired yet.");
    assert.equal(wait[1], "Waiting for the answer…");
    assert.match(wait[2], new RegExp(String.raw`^${RESPONDED} · waiting for the record…$`));
    assert.match(wait.at(-1), VISIBLE);
    const awaited = said["#awaited-detail"];
    assert.deepEqual(awaited.slice(0, 2), ["Not fired yet.", "Waiting for the answer…"]);
    assert.match(awaited.at(-1), STORED);
    assert.deepEqual(said["#recent-message"].filter((words) => /newest/.test(words)),
      ["1 newest, newest first.", "2 newest, newest first."]);
    await close();
  });
});

test("live regions are written only when their text changes, not again on every poll", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    await fire(page, "awaited");
    // Test double: a plain receipt whose record nothing stores, so that the page polls on (8 s).
    await page.route(PLAIN, (route) => route.fulfill({ contentType: "application/json",
      body: JSON.stringify({ id: "0190a000-0000-7000-8000-00000000dead", awaited: false, storage: "memory" }) }));
    let polls = 0;
    page.on("request", (request) => { if (request.url().endsWith("/api/recent")) polls += 1; });
    await page.click("#fire");
    await page.waitForFunction(() => /waiting for the record/.test(document.querySelector("#wait-detail").textContent));
    const live = ["#wait-detail", "#awaited-detail", "#recent-message"];
    const count = () => page.evaluate((live) => live.map((selector) => window.__writes[selector]), live);
    await page.evaluate((live) => {
      window.__writes = {};
      for (const selector of live) {
        window.__writes[selector] = 0;
        new MutationObserver((records) => { window.__writes[selector] += records.length; })
          .observe(document.querySelector(selector), { childList: true, characterData: true, subtree: true, attributes: true });
      }
    }, live);
    // Three polls (quick ones: the fire was just answered), each a list the page already shows:
    // nothing is written.
    const seen = polls;
    await until(() => polls >= seen + 4, "four polls"); // the fourth starts once the third is shown
    assert.deepEqual(await count(), [0, 0, 0], "a poll rewrote a live region with the same text");
    // An awaited fire renders both panels again: only its own changes, and so does the list's.
    await fire(page, "awaited");
    const [wait, awaited, message] = await count();
    assert.equal(wait, 0, "the waitUntil panel's detail was rewritten with the same text");
    assert.ok(awaited > 0 && message > 0, `the awaited fire was not written: ${[wait, awaited, message]}`);
    assert.equal(await text(page, "#recent-message"), "2 newest, newest first.");
    assert.match(await text(page, "#wait-detail"), /waiting for the record…$/); // still, within its 8 s
    await close();
  });
});

test("both buttons work from the keyboard, and keep the focus while they wait", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#links .fallback");
    const focused = () => page.evaluate(() => document.activeElement.id);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "fire");
    await fire(page, "wait", () => page.keyboard.press("Enter"));
    assert.equal(await focused(), "fire");
    assert.match(await text(page, "#wait-detail"), VISIBLE);
    await page.keyboard.press("Tab");
    assert.equal(await focused(), "fire-awaited");
    await fire(page, "awaited", () => page.keyboard.press("Space"));
    assert.equal(await focused(), "fire-awaited");
    assert.match(await text(page, "#awaited-detail"), STORED);
    // Enter again on the same button fires again.
    await fire(page, "awaited", () => page.keyboard.press("Enter"));
    assert.deepEqual((await historyRows(page)).map((row) => row.n), [3, 2, 1]);
    assert.equal((await listIds(page)).length, 3);
    await close();
  });
});

test("twelve fires of both kinds: the ten newest listed, all twelve in the history and the chart", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    const fired = [];
    for (let i = 0; i < 12; i++) fired.push(await fire(page, i % 2 ? "awaited" : "wait"));
    const kindOf = (i) => (i % 2 ? "awaited" : "wait");
    assert.deepEqual(await listIds(page), fired.slice(2).map((f) => f.id).reverse());
    const badges = await page.$$eval("#recent .yours", (nodes) => nodes.map((n) => n.textContent));
    const badge = (i) => (kindOf(i) === "wait" ? "yours · waitUntil" : "yours · awaited");
    assert.deepEqual(badges, fired.map((_, i) => badge(i)).slice(2).reverse());

    const rows = await historyRows(page);
    assert.deepEqual(rows.map((row) => [row.n, row.kind, row.id]),
      fired.map((f, i) => [i + 1, kindOf(i), f.id]).reverse());
    for (const row of rows) assert.match(row.ms, /^\d+ ms$/);
    assert.equal(await text(page, "#failures"), "0 failed");

    const marks = await chartMarks(page);
    assert.deepEqual(marks.map((m) => [m.n, m.kind, m.shape, m.failed]),
      fired.map((_, i) => [i + 1, kindOf(i), kindOf(i) === "wait" ? "circle" : "rect", false]));

    // The medians, from the response times the page kept.
    const stored = await storedHistory(page);
    const medianOf = (kind) => Math.round(median(stored.list.filter((f) => f.kind === kind).map((f) => f.ms)));
    const wait = `waitUntil: 6 fires, median ${medianOf("wait")} ms`;
    const awaited = `awaited: 6 fires, median ${medianOf("awaited")} ms`;
    assert.equal(await text(page, "#medians"), `Response times · ${wait} · ${awaited}.`);
    assert.equal(await page.getAttribute("#chart", "aria-label"),
      `Response time of each fire, in fire order. ${wait}; ${awaited}.`);
    // The verdict weighs the medians against the server's write times (well under 1 ms in memory).
    const write = median(fired.filter((f) => f.body.awaited).map((f) => f.body.writeMs));
    const verdict = await text(page, "#verdict");
    if (write < 1) {
      assert.ok(verdict.startsWith(`Here the awaited write took ${shownWriteMs(write)} ms on the server (median), so both kinds answer alike`), verdict);
    } else {
      assert.match(verdict, /^(waitUntil answered \d+ ms sooner \(median\)|No clear gain in these fires)/);
    }
    await close();
  });
});

test("the history survives a reload of the tab, and a new tab starts afresh", async () => {
  await withApp({}, async (app) => {
    const { page, context, close } = await open(browser, app);
    const first = await fire(page, "wait");
    const second = await fire(page, "awaited");
    const before = { rows: await historyRows(page), marks: await chartMarks(page), medians: await text(page, "#medians") };
    await page.reload();
    await page.waitForSelector(`#recent li[data-id="${first.id}"].mine`);
    assert.deepEqual(await historyRows(page), before.rows);
    assert.deepEqual(await chartMarks(page), before.marks);
    assert.equal(await text(page, "#medians"), before.medians);
    assert.match(await text(page, "#wait-detail"), VISIBLE);
    assert.match(await text(page, "#awaited-detail"), STORED);
    assert.equal(await page.locator(`#recent li[data-id="${second.id}"] .yours`).textContent(), "yours · awaited");
    // The next fire goes on counting.
    await fire(page, "wait");
    assert.deepEqual((await historyRows(page)).map((row) => row.n), [3, 2, 1]);

    const other = await context.newPage();
    await other.goto(app.url("/"));
    await other.waitForSelector(`#recent li[data-id="${first.id}"]`);
    assert.deepEqual(await historyRows(other), []);
    assert.equal(await other.locator("#recent li.mine").count(), 0);
    await close();
  });
});

test("a record still looked for when the tab reloads is looked for again", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // Test double: until the tab has reloaded, every list load answers an empty list, so the
    // page cannot see its record before (nor, while it unloads, the page it was).
    let empty = true, empties = 0;
    await page.route((url) => url.pathname === "/api/recent", (route) => {
      if (!empty) return route.continue();
      empties += 1;
      return route.fulfill({ contentType: "application/json", body: '{"requests":[],"storage":"memory","skipped":0}' });
    });
    const [response] = await Promise.all([
      page.waitForResponse((r) => PLAIN(new URL(r.url()))),
      page.click("#fire"),
    ]);
    const { id } = await response.json();
    const polled = empties;
    await until(() => empties >= polled + 3, "three polls after the answer"); // all empty
    assert.match(await text(page, "#wait-detail"), /waiting for the record…$/);
    assert.deepEqual((await storedHistory(page)).list.map((f) => [f.id, f.outcome]), [[id, "pending"]]);
    await page.reload();
    empty = false;
    await settled(page, "wait");
    assert.match(await text(page, "#wait-detail"), VISIBLE);
    assert.equal((await historyRows(page))[0].outcome, "seen");
    assert.equal(await page.locator(`#recent li[data-id="${id}"].mine`).count(), 1);
    await close();
  });
});

test("a stored history that is not the page's own is read with care, and shown as text", async () => {
  await withApp({}, async (app) => {
    const { page, dialogs, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    const setHistory = (value) => page.evaluate((v) => sessionStorage.setItem("wait-until:fires:v1", v), value);

    for (const junk of ["not json", "null", "42", "[]", '{"list":"nope"}', '{"list":[1,"x",null]}']) {
      await setHistory(junk);
      await page.reload();
      await page.waitForSelector("#recent-message:has-text('No requests yet')");
      assert.deepEqual(await historyRows(page), [], junk);
      assert.equal(await text(page, "#failures"), "0 failed", junk);
    }

    const hostile = "<img src=x onerror=alert(1)><script>window.__pwned=1</script>";
    await setHistory(JSON.stringify({
      total: "<b>9</b>",
      list: [
        { n: 5, kind: "awaited", outcome: "failed", ms: 12, at: Date.now(), error: hostile, id: "<svg onload=alert(2)>" },
        { n: 4, kind: "__proto__", outcome: "seen", ms: 1 },
        { n: 3, kind: "wait", outcome: "<script>", ms: 1 },
        { n: -1, kind: "wait", outcome: "seen", ms: 1 },
        { n: 2, kind: "wait", outcome: "pending", ms: 3 }, // no id: can never be seen
        { n: 2, kind: "awaited", outcome: "stored", ms: 4, writeMs: 1 }, // a second #2
        { n: 1, kind: "wait", outcome: "seen", ms: "<i>7</i>", visibleMs: -5, at: "yesterday" },
      ],
    }));
    await page.reload();
    await page.waitForSelector("#history li >> nth=2");
    const rows = await historyRows(page);
    assert.deepEqual(rows.map((row) => [row.n, row.kind, row.outcome, row.ms, row.text]), [
      [5, "awaited", "failed", "12 ms", `failed: ${hostile}`],
      [2, "wait", "not-seen", "3 ms", "not seen within 8 s"],
      [1, "wait", "seen", "–", "visible after ? (polled)"],
    ]);
    assert.equal(await text(page, "#awaited-detail"), `failed: ${hostile}`);
    assert.equal(await text(page, "#failures"), "2 failed");
    assert.equal(await page.$$eval("main img, main script, main i, main b, #history svg:not(.key)", (n) => n.length), 0);
    await page.waitForTimeout(300); // time for an injected handler to fire, if one existed
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(dialogs, []);
    // And firing goes on from the highest number kept.
    await fire(page, "wait");
    assert.equal((await historyRows(page))[0].n, 6);
    await close();
  });
});

test("numbers no fire can have are unknown or corrupt: huge times, an answer in the future, a huge count", async () => {
  await withApp({}, async (app) => {
    const now = Date.now();
    const history = {
      total: Number.MAX_SAFE_INTEGER, // the next two fires would share a number
      list: [
        // Answered tomorrow: clamped to now, so it is given up 8 s after the page loads.
        { n: 4, kind: "wait", outcome: "pending", id: "0190a000-0000-7000-8000-00000000beef", at: now, ms: 3,
          respondedAt: now + 86_400_000 },
        { n: 3, kind: "awaited", outcome: "stored", at: now, ms: 5, writeMs: 1e25 },
        { n: 2, kind: "wait", outcome: "seen", at: now, ms: 1.7e308, visibleMs: 1e300 },
        { n: 1, kind: "wait", outcome: "seen", at: now, ms: 2, visibleMs: 30 },
        { n: 1e12, kind: "wait", outcome: "seen", at: now, ms: 2, visibleMs: 30 }, // past any count: dropped
      ],
    };
    const consoleErrors = [];
    const { page, close } = await open(browser, app, {}, async (page) => {
      page.on("console", (message) => { if (message.type() === "error") consoleErrors.push(message.text()); });
      // Test double: a hostile history, in sessionStorage before the page first reads it.
      await page.addInitScript((value) => {
        if (!sessionStorage.getItem("wait-until:fires:v1")) sessionStorage.setItem("wait-until:fires:v1", value);
      }, JSON.stringify(history));
    });
    await page.waitForSelector("#history li >> nth=3");
    const rows = await historyRows(page);
    assert.deepEqual(rows.slice(1).map((row) => [row.n, row.ms, row.text]), [
      [3, "5 ms", "stored on the server (write time unknown)"],
      [2, "–", "visible after ? (polled)"],
      [1, "2 ms", "visible after 30 ms (polled)"],
    ]);
    assert.equal(rows[0].n, 4);
    // The chart holds the three known times, on a finite scale.
    assert.deepEqual((await chartMarks(page)).map((mark) => mark.n), [1, 3, 4]);
    const numbers = await page.$$eval("#chart *", (nodes) => nodes.flatMap((node) =>
      ["x", "y", "cx", "cy", "x1", "x2", "y1", "y2", "width", "height"].filter((name) => node.hasAttribute(name))
        .map((name) => node.getAttribute(name))));
    assert.ok(numbers.length > 0 && numbers.every((value) => Number.isFinite(Number(value))), numbers.join());
    assert.deepEqual(await page.$$eval("#chart text", (labels) => labels.slice(0, 3).map((label) => label.textContent)),
      ["0 ms", "2.5 ms", "5 ms"]);

    // Test double: a receipt with a write time no write takes.
    await page.route(AWAITED, async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...(await response.json()), writeMs: 1e25 } });
    });
    await fire(page, "awaited");
    assert.match(await text(page, "#awaited-detail"),
      new RegExp(String.raw`^${RESPONDED} · stored on the server \(write time unknown\), before the response$`));
    await fire(page, "wait");
    // Numbering goes on from the highest fire kept, the corrupt total ignored.
    assert.deepEqual((await historyRows(page)).map((row) => row.n), [6, 5, 4, 3, 2, 1]);
    assert.doesNotMatch(await text(page, "main"), /e\+|Infinity|NaN/);
    // The fire answered "tomorrow" is given up like any other.
    await page.waitForSelector('#history li[data-n="4"][data-outcome="not-seen"]', { timeout: 20_000 });
    assert.deepEqual(consoleErrors, []);
    await close();
  });
});

test("the history keeps the 100 newest and says so; with a full chart the page fits 360 px", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app, { viewport: { width: 360, height: 740 } });
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // One word longer than the screen is wide: it must wrap, not widen the page.
    const long = `storage answered HTTP 503: ${"unbroken".repeat(30)}`;
    await page.evaluate(([long]) => {
      const list = [];
      for (let n = 1; n <= 130; n++) {
        const kind = n % 3 ? "wait" : "awaited";
        const failed = n % 10 === 0;
        list.push({ n, kind, at: Date.now() - (130 - n) * 1000, ms: 5 + (n % 17) * 3, respondedAt: 1, id: null,
          outcome: failed ? "failed" : kind === "wait" ? "seen" : "stored", visibleMs: 40, writeMs: 0.05,
          error: failed ? long : null });
      }
      sessionStorage.setItem("wait-until:fires:v1", JSON.stringify({ total: 130, list }));
    }, [long]);
    await page.reload();
    await page.waitForSelector("#history li >> nth=99");
    const rows = await historyRows(page);
    assert.equal(rows.length, 100);
    assert.deepEqual([rows[0].n, rows.at(-1).n], [130, 31]);
    assert.match(await text(page, "#history-note"), /^Showing the 100 newest fires; older ones are dropped\./);
    const marks = await chartMarks(page);
    assert.equal(marks.length, 100);
    assert.equal(marks.filter((m) => m.failed).length, 10);
    assert.equal(await text(page, "#failures"), "10 failed");
    assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)}px wider than the viewport`);
    // The chart is drawn at the width it is shown: its text stays 11 px on a phone.
    const box = await page.$eval("#chart", (svg) => [svg.getBoundingClientRect().width, svg.viewBox.baseVal.width]);
    assert.equal(Math.round(box[0]), box[1]);
    // A new fire drops the oldest kept.
    await fire(page, "wait");
    const after = await historyRows(page);
    assert.deepEqual([after.length, after[0].n, after.at(-1).n], [100, 131, 32]);
    await close();
  });
});

test("the chart's axis labels fit its margin at 360 px, from under a millisecond to ten minutes", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app, { viewport: { width: 360, height: 740 } });
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // Each case: the response times of a history, and the axis labels at 0, half and the top.
    // 9.4 s is an awaited fire against storage that never answers; 600 s the longest time kept.
    const cases = [
      [[0.2, 0.6], ["0 ms", "0.5 ms", "1 ms"]],
      [[40, 90], ["0 ms", "50 ms", "100 ms"]],
      [[300, 900], ["0 ms", "500 ms", "1 s"]],
      [[12, 4_200], ["0 ms", "2.5 s", "5 s"]],
      [[12, 9_400], ["0 ms", "5 s", "10 s"]],
      [[12, 600_000], ["0 ms", "500 s", "1000 s"]],
    ];
    for (const [times, labels] of cases) {
      await page.evaluate((times) => {
        const list = times.map((ms, i) => ({ n: i + 1, kind: i % 2 ? "awaited" : "wait", at: Date.now(), ms,
          outcome: i % 2 ? "stored" : "seen", visibleMs: 40, writeMs: 0.05 })).reverse();
        sessionStorage.setItem("wait-until:fires:v1", JSON.stringify({ total: list.length, list }));
      }, times);
      await page.reload();
      await page.waitForSelector("#chart .mark >> nth=1");
      const texts = await page.$$eval("#chart text", (nodes) => {
        const width = document.querySelector("#chart").viewBox.baseVal.width;
        return nodes.map((node) => {
          const box = node.getBBox();
          return { text: node.textContent, inside: box.x >= 0 && box.x + box.width <= width };
        });
      });
      assert.deepEqual(texts.slice(0, 3).map((label) => label.text), labels, times.join());
      for (const label of texts) assert.ok(label.inside, `"${label.text}" is cut off at the chart's edge (${times})`);
      assert.ok(await overflow(page) <= 0, `the page is ${await overflow(page)}px wider than the viewport`);
    }
    await close();
  });
});

test("records fired by someone else are not marked as yours", async () => {
  await withApp({}, async (app) => {
    const before = await app.fire({ "user-agent": "someone else, before" });
    const { page, close } = await open(browser, app);
    const mine = await fire(page, "wait");
    const later = await app.fire({ "user-agent": "someone else, later" });
    await page.click("#refresh");
    await page.waitForSelector(`#recent li[data-id="${later}"]`);
    assert.deepEqual(await listIds(page), [later, mine.id, before]);
    assert.deepEqual(await page.$$eval("#recent li.mine", (items) => items.map((li) => li.dataset.id)), [mine.id]);
    assert.equal(await page.locator("#recent .yours").count(), 1);
    assert.deepEqual((await historyRows(page)).map((row) => row.id), [mine.id]);
    await close();
  });
});

test("failures are counted and say what the server said: an awaited write refused, a record never seen", async () => {
  // A real failure, no double: storage is forced to Upstash with no settings.
  await withApp({ WAIT_UNTIL_STORE: "upstash" }, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message.bad");
    const awaited = await fire(page, "awaited");
    assert.equal(awaited.status, 503);
    assert.ok(awaited.body.error.startsWith(NOT_CONFIGURED), awaited.body.error);
    assert.equal(await text(page, "#awaited-detail"), `failed: ${awaited.body.error}`);
    assert.equal(await page.getAttribute("#awaited-detail", "class"), "detail bad");
    assert.equal(await text(page, "#awaited-hint"),
      `Record ${awaited.id} was not stored: the function's log has its failure line, ready to replay.`);
    assert.equal(await text(page, "#failures"), "1 failed");
    assert.equal(await page.getAttribute("#failures", "class"), "badge bad");
    assert.equal((await historyRows(page))[0].text, `failed: ${awaited.body.error}`);
    assert.deepEqual((await chartMarks(page)).map((m) => m.failed), [true]);
    assert.match(await text(page, "#medians"), /awaited: 1 fire, no successful one, 1 failed/);

    // The plain fire answers 200; its record never lands. Polls back off, and stop at 8 s.
    const [response] = await Promise.all([
      page.waitForResponse((r) => r.url().endsWith("/api/wait-until")),
      page.click("#fire"),
    ]);
    const { id } = await response.json();
    assert.equal(response.status(), 200);
    await page.waitForFunction(() => /waiting for the record/.test(document.querySelector("#wait-detail").textContent));
    assert.equal(await isBusy(page, "wait"), false);
    await settled(page, "wait");
    assert.match(await text(page, "#wait-detail"), NOT_SEEN);
    assert.match(await text(page, "#wait-hint"), /^Its write may have failed \(the function's log then has a failure line holding the record, ready to replay\), or ten newer records pushed it out/);
    assert.equal(await text(page, "#failures"), "2 failed");
    assert.equal((await historyRows(page))[0].text, "not seen within 8 s");
    // Timed by the page's own clock: when this process hears of each request says little on a
    // busy machine. Each gap between polls is the page's wait (25 ms, then ×1.6 each time, at most
    // 1.5 s) plus the previous load's own time, which a busy machine makes long: so a wait is a
    // lower bound on its gap, and the upper bound is loose.
    const entries = await timings(page);
    const answered = entries.findLast((entry) => entry.path === "/api/wait-until").end;
    const polls = entries.filter((entry) => entry.path === "/api/recent" && entry.start > answered);
    const gaps = polls.map((poll, i) => Math.round(poll.start - (i ? polls[i - 1].start : answered)));
    assert.ok(polls.length >= 5 && polls.length <= 16, `${polls.length} polls: ${gaps}`);
    assert.ok(gaps[0] < 1_000, `the first poll came ${gaps[0]} ms after the answer`);
    const wait = (i) => Math.min(25 * 1.6 ** i, 1_500);
    // The last poll is the one that gives up, at 8 s, however soon after the one before.
    for (let i = 1; i < gaps.length - 1; i++) {
      assert.ok(gaps[i] >= wait(i) - 5 && gaps[i] <= wait(i) + 1_500, `gap ${i} is not a wait of ${wait(i)} ms: gaps ${gaps}`);
    }
    // It gave up once a load ended 8 s after the answer, and not much later.
    const last = polls.at(-1);
    assert.ok(last.end - answered >= 7_900 && last.start - answered <= 10_000,
      `gave up with a poll from ${Math.round(last.start - answered)} to ${Math.round(last.end - answered)} ms after the answer`);
    await page.waitForTimeout(1_800); // the poller's longest wait, and more: no poll may come
    const later = (await timings(page)).filter((entry) => entry.path === "/api/recent" && entry.start > last.start);
    assert.deepEqual(later, [], "polling went on after giving up");

    // Both failure lines are in the function's log, holding the records.
    assert.deepEqual(app.failedRecords().map((r) => r.id).sort(), [awaited.id, id].sort());
    await close();
  });
});

test("answers that are not receipts: not JSON, no answer at all, hostile JSON", async () => {
  await withApp({}, async (app) => {
    const { page, dialogs, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // Test doubles: what the real app never answers.
    await page.route(AWAITED, (route) =>
      route.fulfill({ status: 502, contentType: "text/html", body: "<h1>Bad gateway</h1><img src=x onerror=alert(1)>" }));
    await page.route(PLAIN, (route) => route.abort("connectionreset"));
    await fire(page, "awaited");
    assert.equal(await text(page, "#awaited-detail"), "failed: HTTP 502");
    await page.click("#fire");
    await settled(page, "wait");
    assert.equal(await text(page, "#wait-detail"), "failed: the network request failed");
    assert.equal(await text(page, "#wait-ms"), "–");
    assert.deepEqual((await historyRows(page)).map((row) => [row.n, row.ms, row.text]), [
      [2, "–", "failed: the network request failed"],
      [1, (await historyRows(page))[1].ms, "failed: HTTP 502"],
    ]);
    // A fire with no answer has no response time: no mark; the 502 has a hollow one.
    assert.deepEqual((await chartMarks(page)).map((m) => [m.n, m.failed]), [[1, true]]);
    assert.equal(await text(page, "#failures"), "2 failed");

    const hostile = "<img src=x onerror=alert(3)>";
    await page.unrouteAll();
    await page.route(AWAITED, (route) =>
      route.fulfill({ status: 503, contentType: "application/json", body: JSON.stringify({ error: hostile, id: "<b>x</b>" }) }));
    await page.route(PLAIN, (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify({ id: "<svg onload=alert(4)>", storage: "<i>x</i>" }) }));
    await fire(page, "awaited");
    assert.equal(await text(page, "#awaited-detail"), `failed: ${hostile}`);
    assert.equal(await text(page, "#awaited-hint"), "Record <b>x</b> was not stored: the function's log has its failure line, ready to replay.");
    await fire(page, "wait"); // an id nothing stores: looked for 8 s, then given up
    assert.match(await text(page, "#wait-detail"), NOT_SEEN);
    assert.equal(await text(page, "#storage"), "Storage: memory");
    assert.equal(await page.$$eval("main img, main b, main i, #history svg:not(.key)", (n) => n.length), 0);
    await page.waitForTimeout(300); // time for an injected handler to fire, if one existed
    assert.deepEqual(dialogs, []);
    await close();
  });
});

test("a receipt that is not the one asked for is a failure: a deployment that ignores ?await, and the reverse", async () => {
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message:has-text('No requests yet')");
    // A fire whose request goes elsewhere: its answer comes from the URL it went to.
    const rerouted = async (kind) => {
      const [response] = await Promise.all([
        page.waitForResponse((r) => new URL(r.url()).pathname === "/api/wait-until"),
        page.click(KINDS[kind].button),
      ]);
      await settled(page, kind);
      return { status: response.status(), body: await response.json() };
    };
    // Test double: a deployment older than ?await=1, whose one route answers both buttons alike.
    await page.route(AWAITED, (route) => route.continue({ url: app.url("/api/wait-until") }));
    const awaited = await rerouted("awaited");
    assert.equal(awaited.status, 200);
    assert.equal(awaited.body.awaited, false);
    assert.equal(await text(page, "#awaited-detail"),
      "failed: this deployment did not await the write (its answer does not say awaited: true)");
    assert.equal(await page.getAttribute("#awaited-detail", "class"), "detail bad");
    assert.match(await text(page, "#awaited-hint"), /^Its record is written after the response, as waitUntil does/);
    assert.equal(await text(page, "#failures"), "1 failed");
    // And the reverse: a plain fire that the server answered only once the write was done.
    await page.unrouteAll();
    await page.route(PLAIN, (route) => route.continue({ url: app.url("/api/wait-until?await=1") }));
    const plain = await rerouted("wait");
    assert.equal(plain.body.awaited, true);
    assert.equal(await text(page, "#wait-detail"), "failed: not a waitUntil receipt (its answer does not say awaited: false)");
    assert.match(await text(page, "#wait-hint"), /^Its answer is not the one \/api\/wait-until gives/);
    assert.equal(await text(page, "#failures"), "2 failed");
    assert.deepEqual((await chartMarks(page)).map((mark) => [mark.n, mark.failed]), [[1, true], [2, true]]);
    // Not a boolean at all: refused by both buttons.
    await page.unrouteAll();
    for (const route of [AWAITED, PLAIN]) {
      await page.route(route, async (route) => {
        const response = await route.fetch();
        await route.fulfill({ response, json: { ...(await response.json()), awaited: "true" } });
      });
    }
    await fire(page, "awaited");
    await fire(page, "wait");
    assert.deepEqual((await historyRows(page)).map((row) => row.outcome), ["failed", "failed", "failed", "failed"]);
    await close();
  });
});

test("records whose id is not text are skipped and counted, and the rest shown as text", async () => {
  await withApp({}, async (app) => {
    const good = { id: "0190a000-0000-7000-8000-000000000001", timestamp: Date.now(), method: "GET", userAgent: "good" };
    // Every field but the id an object that throws when made a string or a number.
    const odd = { id: "0190a000-0000-7000-8000-000000000002", timestamp: { valueOf: "x" }, method: { toString: "x" },
      userAgent: { toString: "y" }, country: { toString: "FR" }, flag: "🇫🇷" };
    const answer = {
      requests: [{ ...good, id: { toString: "x" } }, { ...good, id: 42 }, { ...good, id: ["a"] },
        { ...good, id: "x".repeat(65) }, odd, good, "a string", null],
      storage: "memory", skipped: 3,
    };
    // Test double: a hostile /api/recent, as a proxy in between could answer.
    const { page, close } = await open(browser, app, {}, (page) => page.route((url) => url.pathname === "/api/recent",
      (route) => route.fulfill({ contentType: "application/json", body: JSON.stringify(answer) })));
    await page.waitForFunction(() => document.querySelector("#recent-message").textContent !== "Loading…");
    assert.equal(await text(page, "#recent-message"), "2 newest, newest first (9 unreadable entries skipped).");
    assert.deepEqual(await listIds(page), [odd.id, good.id]);
    const shown = await page.$eval("#recent li", (li) => [li.querySelector(".method").textContent,
      li.querySelector(".ua").textContent, li.querySelector("time").textContent, li.querySelector(".flag").getAttribute("aria-label")]);
    assert.deepEqual(shown, ["", "(no user agent)", "unknown time", "Country unknown"]);
    await close();
  });
});

test("links to the source and the deploy steps come from the server's settings", async () => {
  await withApp({ WAIT_UNTIL_SOURCE_URL: SOURCE_URL }, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#source-link");
    assert.equal(await page.getAttribute("#source-link", "href"), SOURCE_URL);
    assert.equal(await page.getAttribute("#deploy-link", "href"), `${SOURCE_URL}#deploy`);
    for (const id of ["source-link", "deploy-link"]) {
      assert.match(await page.getAttribute(`#${id}`, "rel"), /\bnoopener\b/);
    }
    assert.equal(await text(page, "#source-link"), "Read the source");
    assert.equal(await text(page, "#deploy-link"), "Deploy your own");
    assert.equal(await page.locator("#links .fallback").count(), 0);
    await close();
  });
  await withApp({}, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#links .fallback");
    assert.equal(await page.locator("#links a").count(), 0);
    assert.equal(await text(page, "#links"), "Source: this project's repository · deploy steps: README.md, section “Deploy”");
    await close();
  });
});

test("a hostile /api/source answer never becomes a link", async () => {
  await withApp({}, async (app) => {
    const { page, dialogs, close } = await open(browser, app);
    const answers = [
      { source: "javascript:alert(1)", deploySteps: "JaVaScRiPt:alert(2)//https://x" },
      { source: "data:text/html,<script>alert(3)</script>", deploySteps: "vbscript:msgbox(4)" },
      { source: "http://example.com/acme", deploySteps: "//example.com/acme#deploy" },
      { source: "https://user:token@example.com/acme", deploySteps: "/relative#deploy" },
      { source: 42, deploySteps: { href: "https://example.com" } },
      { source: ["https://example.com"], deploySteps: "" },
      { source: `https://example.com/${"a".repeat(3000)}`, deploySteps: null },
      "https://example.com",
      null,
    ];
    // Test double: the real app hands out https URLs only; this is a server that does not.
    let answer;
    await page.route(SOURCE, (route) =>
      route.fulfill({ status: 200, contentType: "application/json", body: JSON.stringify(answer) }));
    for (answer of answers) {
      await page.reload();
      await page.waitForSelector("#links .fallback");
      assert.equal(await page.locator("#links a, a[href]").count(), 0, JSON.stringify(answer));
    }
    // A good value next to a bad one: only the good one is a link.
    answer = { source: "https://example.com/acme", deploySteps: "javascript:alert(5)" };
    await page.reload();
    await page.waitForSelector("#source-link");
    assert.equal(await page.locator("#deploy-link").count(), 0);
    assert.match(await text(page, "#links"), /deploy steps: README\.md, section “Deploy”/);
    // Not JSON, and an error status: no links either.
    await page.unrouteAll();
    for (const [status, body] of [[200, "<a href=javascript:alert(6)>x</a>"], [500, '{"source":"https://example.com"}']]) {
      await page.route(SOURCE, (route) => route.fulfill({ status, contentType: "text/html", body }));
      await page.reload();
      await page.waitForSelector("#links .fallback");
      assert.equal(await page.locator("#links a").count(), 0);
      await page.unrouteAll();
    }
    assert.deepEqual(dialogs, []);
    await close();
  });
});

test("countries show as flags named by their code, unknown ones as a placeholder", async () => {
  await withApp({}, async (app) => {
    for (const country of ["FR", "JP", "BR"]) await app.fire({ "x-vercel-ip-country": country });
    await app.fire({ "x-vercel-ip-country": "not a country" });
    const { page, close } = await open(browser, app);
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
  });
});

test("hostile user agents render as text and run nothing", async () => {
  const hostile = [
    "<img src=x onerror=alert(1)>",
    "<script>window.__pwned = true; alert(2)</script>",
    "\"><svg onload=alert(3)>",
    "javascript:alert(4)",
    "{\"userAgent\":\"</ol><b>bold</b>\"}",
  ];
  await withApp({}, async (app) => {
    for (const userAgent of hostile) await app.fire({ "user-agent": userAgent });
    const { page, dialogs, close } = await open(browser, app);
    await page.waitForSelector(`#recent li >> nth=${hostile.length - 1}`);
    const shown = await page.$$eval("#recent .ua", (nodes) => nodes.map((n) => n.textContent));
    assert.deepEqual(shown, [...hostile].reverse());
    assert.equal(await page.$$eval("#recent img, #recent svg, #recent script, #recent b", (n) => n.length), 0);
    // Firing both kinds next to them changes nothing.
    await fire(page, "wait");
    await fire(page, "awaited");
    assert.equal(await page.locator("#recent li.mine").count(), 2);
    await page.waitForTimeout(300); // time for an injected handler to fire, if one existed
    assert.equal(await page.evaluate(() => window.__pwned), undefined);
    assert.deepEqual(dialogs, []);
    await close();
  });
});

test("hostile records in real storage (redis-server behind the Upstash emulator) run nothing; both buttons work", async () => {
  const redis = await startRedis();
  let emulator;
  try {
    emulator = await startEmulator(redis);
    const now = Date.now();
    const minutesAgo = (m) => now - m * 60_000;
    // A v7 UUID made `ms` milliseconds after the epoch, as the app writes them.
    const v7 = (ms, tail) => {
      const hex = ms.toString(16).padStart(12, "0");
      return `${hex.slice(0, 8)}-${hex.slice(8)}-7abc-8def-${tail.padStart(12, "0")}`;
    };
    const records = [
      { id: v7(minutesAgo(4), "1"), timestamp: minutesAgo(4), method: "<img src=x onerror=alert(1)>",
        userAgent: "<script>window.__pwned = 1; alert(2)</script>", country: "FR", flag: "🇫🇷" },
      { id: v7(minutesAgo(3), "2"), timestamp: minutesAgo(3), method: "GET",
        userAgent: "javascript:alert(3)\"><svg onload=alert(4)>" },
      { id: v7(minutesAgo(2), "3"), timestamp: minutesAgo(2), method: "<a href=javascript:alert(5)>",
        userAgent: "</ol></section><iframe srcdoc='<script>parent.alert(6)</script>'>" },
      // A time no Date can hold: shown as "unknown time".
      { id: v7(minutesAgo(1), "4"), timestamp: 8_640_000_000_000_001, method: "POST",
        userAgent: "{{constructor.constructor('alert(7)')()}}" },
    ];
    // Not records: never shown, counted as skipped. The last is a second text for the id of
    // `records[1]`, just older: read after it, and skipped as a repeat.
    const invalid = [
      "<script>alert(8)</script>",
      JSON.stringify({ id: "<img src=x onerror=alert(9)>", timestamp: 1, method: "GET", userAgent: "x" }),
      JSON.stringify({ ...records[1], id: v7(minutesAgo(5), "5"), html: "<b>extra field</b>" }),
      JSON.stringify({ ...records[1], id: v7(minutesAgo(6), "6"), userAgent: "bidi \u202e<b>gnp.exe</b>" }),
      JSON.stringify({ ...records[1], userAgent: "<b>a twin</b> of record 2" }),
    ];
    // ZADD, as any other writer of the set could. Each scored by its id's time (the fourth
    // record too, whose timestamp is not a time): all nine among the ten newest, the records
    // newest, the entries that are not records older; the one scored lowest is invalid[1].
    await redis.zadd([
      ...records.map((r, i) => [minutesAgo(4 - i), JSON.stringify(r)]),
      [minutesAgo(7), invalid[0]], [minutesAgo(8), invalid[1]], [minutesAgo(5), invalid[2]],
      [minutesAgo(6), invalid[3]], [minutesAgo(3) - 1, invalid[4]],
    ]);
    const shown = [...records].reverse();
    let wait, awaited; // the two fires, by the page

    await withApp(emulator.env, async (app) => {
      const { page, dialogs, close } = await open(browser, app);
      await page.waitForSelector("#recent li >> nth=3");
      assert.equal(await text(page, "#storage"), "Storage: Upstash");
      assert.equal(await text(page, "#recent-message"), "4 newest, newest first (5 unreadable entries skipped).");
      assert.deepEqual(await listIds(page), shown.map((r) => r.id));
      assert.deepEqual(await page.$$eval("#recent .method", (n) => n.map((m) => m.textContent)), shown.map((r) => r.method));
      assert.deepEqual(await page.$$eval("#recent .ua", (n) => n.map((m) => m.textContent)), shown.map((r) => r.userAgent));
      assert.equal(await page.locator("#recent li.mine").count(), 0);
      assert.equal(await page.locator(`#recent li[data-id="${records[3].id}"] time`).textContent(), "unknown time");

      wait = await fire(page, "wait");
      assert.match(await text(page, "#wait-detail"), VISIBLE);
      assert.equal(wait.body.storage, "upstash");
      awaited = await fire(page, "awaited");
      assert.equal(awaited.body.storage, "upstash");
      assert.match(await text(page, "#awaited-detail"), STORED);
      await page.waitForSelector(`#recent li[data-id="${awaited.id}"]`);
      assert.deepEqual(await listIds(page), [awaited.id, wait.id, ...shown.map((r) => r.id)]);
      assert.deepEqual(await page.$$eval("#recent li.mine .yours", (n) => n.map((b) => b.textContent)),
        ["yours · awaited", "yours · waitUntil"]);
      // Nine entries and two fires: the app cut the set to its ten newest, the lowest scored gone.
      assert.match(await text(page, "#recent-message"), /\(4 unreadable entries skipped\)\.$/);
      // Nothing stored became markup, ran, or asked anything.
      assert.equal(await page.$$eval("main img, main script, main a[href], main iframe, #recent svg, #recent b",
        (n) => n.length), 0);
      await page.waitForTimeout(300); // time for an injected handler to fire, if one existed
      assert.equal(await page.evaluate(() => window.__pwned), undefined);
      assert.deepEqual(dialogs, []);
      await close();
    });
    // Both fires reached real Redis, through the emulator, each its canonical text (id first)
    // scored by its time, which is its id's time; the lowest-scored entry was cut.
    const stored = await redis.scored();
    assert.equal(stored.length, 10, stored.map(([member]) => member).join("\n"));
    assert.ok(!stored.some(([member]) => member === invalid[1]), "the lowest-scored entry was not cut");
    for (const { id } of [awaited, wait]) {
      const [member, score] = stored.find(([member]) => member.startsWith(`{"id":"${id}",`)) ?? [];
      assert.ok(member, `${id} is not stored, or not with its id first`);
      const record = JSON.parse(member);
      assert.equal(score, record.timestamp, member);
      assert.equal(record.timestamp, parseInt(id.replaceAll("-", "").slice(0, 12), 16), member);
    }
  } finally {
    await emulator?.stop();
    await redis.stop();
  }
});

test("a storage key holding an older version's list: the list and the awaited fire say which key and what to do", async () => {
  const redis = await startRedis();
  let emulator;
  try {
    emulator = await startEmulator(redis);
    // The list older versions kept, under the key this app is pointed at.
    const old = "requests:recent";
    const oldRecord = JSON.stringify({ id: "0190a000-0000-7000-8000-000000000001", timestamp: 1_718_000_000_000,
      method: "GET", userAgent: "written by an older version" });
    await redis.cli(["LPUSH", old, oldRecord]);
    await withApp({ ...emulator.env, WAIT_UNTIL_KEY: old }, async (app) => {
      const { page, close } = await open(browser, app);
      await page.waitForSelector("#recent-message.bad");
      const message = await text(page, "#recent-message");
      assert.match(message, /^Could not load recent requests: storage key `requests:recent` holds another type of value, not this app's sorted set/);
      assert.match(message, /delete that key, or set WAIT_UNTIL_KEY to another name/);
      assert.equal(await page.locator("#recent li").count(), 0);
      // The write is refused the same way, at once: the answer says so, the failure line has the record.
      const awaited = await fire(page, "awaited");
      assert.equal(awaited.status, 502);
      assert.equal(`Could not load recent requests: ${awaited.body.error}`, message);
      assert.equal(await text(page, "#awaited-detail"), `failed: ${awaited.body.error}`);
      assert.equal(await text(page, "#failures"), "1 failed");
      await until(() => app.failedRecords().some((r) => r.id === awaited.id), "the failure line");
      const [line] = app.failures();
      assert.equal(line.error, awaited.body.error);
      assert.equal(line.attempts, 1, "a key of another type is retried");
      await close();
    });
    // The list is as it was, and nothing went anywhere else.
    assert.equal(await redis.cli(["LRANGE", old, "0", "-1"]), oldRecord);
    assert.equal(await redis.cli(["EXISTS", "requests:newest"]), "0");
  } finally {
    await emulator?.stop();
    await redis.stop();
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
  // `done` holds once each injection has had its chance: it ran, or the policy refused it.
  const ranAfter = async (page, done) => {
    await page.evaluate(() => { window.__ran = []; });
    await page.evaluate(inject);
    await page.waitForFunction(done);
    return (await page.evaluate(() => window.__ran)).sort();
  };
  const bare = await browser.newPage();
  await bare.setContent("<!doctype html><title>no policy</title><body></body>");
  assert.deepEqual(await ranAfter(bare, () => window.__ran.length === 3), ["eval", "onerror", "script"]);
  await bare.close();

  await withApp({}, async (app) => {
    const { page, response, dialogs, violations, discard } = await open(browser, app);
    const headers = response.headers();
    const policy = headers["content-security-policy"] ?? "";
    assert.match(policy, /script-src 'sha256-[A-Za-z0-9+/]+=*'/);
    assert.match(policy, /frame-ancestors 'none'/);
    assert.doesNotMatch(policy, /unsafe-inline|unsafe-eval/);
    assert.equal(headers["x-frame-options"], "DENY");
    assert.equal(headers["x-content-type-options"], "nosniff");
    assert.equal(headers["referrer-policy"], "no-referrer");
    await page.waitForSelector("#recent-message:has-text('No requests yet')");

    const refusedAll = () => ["script-src-attr", "script-src-elem", "script-src"]
      .every((directive) => window.__violations.some((seen) => seen.startsWith(`${directive} refused`)));
    assert.deepEqual(await ranAfter(page, refusedAll), []);
    assert.deepEqual(dialogs, []);
    // And the browser said so: the listener that holds every other test to "no violation" works.
    const seen = (await violations()).join("\n");
    for (const directive of ["script-src-attr", "script-src-elem", "script-src"]) {
      assert.match(seen, new RegExp(`^${directive} refused`, "m"), seen);
    }
    // The chart and the panels use no style attribute, which the policy would refuse.
    await fire(page, "wait");
    await fire(page, "awaited");
    assert.equal(await page.$$eval("[style]", (n) => n.length), 0);
    await discard();
  });
});

test("a 503 from /api/recent shows the server's message", async () => {
  await withApp({ WAIT_UNTIL_STORE: "upstash" }, async (app) => {
    const { page, close } = await open(browser, app);
    await page.waitForSelector("#recent-message.bad");
    const message = await text(page, "#recent-message");
    assert.match(message, new RegExp(`^Could not load recent requests: ${NOT_CONFIGURED}`));
    await close();
  });
});

test("dark mode: the page and the chart follow prefers-color-scheme", async () => {
  await withApp({}, async (app) => {
    const colours = {};
    for (const colorScheme of ["light", "dark"]) {
      const { page, close } = await open(browser, app, { colorScheme });
      await fire(page, "wait");
      await fire(page, "awaited");
      colours[colorScheme] = await page.evaluate(() => {
        const get = (selector, property) => getComputedStyle(document.querySelector(selector))[property];
        return {
          body: get("body", "backgroundColor"), text: get("body", "color"),
          wait: get("#chart .mark.wait", "fill"), awaited: get("#chart .mark.awaited", "fill"),
          grid: get("#chart .gridline", "stroke"), label: get("#chart text", "fill"),
        };
      });
      await close();
    }
    const { light, dark } = colours;
    for (const key of Object.keys(light)) assert.notEqual(light[key], dark[key], `${key} is the same in both schemes`);
    for (const scheme of [light, dark]) assert.notEqual(scheme.wait, scheme.awaited, "the two kinds share a colour");
  });
});

test("the page reads well on a phone and in dark mode (screenshots in the target directory)", async () => {
  await withApp({ WAIT_UNTIL_SOURCE_URL: SOURCE_URL }, async (app) => {
    const agents = [
      ["FR", "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 Safari/605.1.15"],
      ["JP", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) Mobile/15E148"],
      ["", "curl/8.5.0"],
      ["BR", "<img src=x onerror=alert(1)>"],
    ];
    mkdirSync(ARTIFACTS, { recursive: true });
    const shots = [
      ["ui.png", { viewport: { width: 900, height: 760 } }],
      ["ui-dark.png", { viewport: { width: 900, height: 760 }, colorScheme: "dark" }],
      ["ui-mobile.png", { viewport: { width: 360, height: 740 }, deviceScaleFactor: 1 }],
    ];
    for (const [file, options] of shots) {
      // Each shot: four visitors from elsewhere, then three fires of each kind from this tab.
      for (const [country, ua] of agents) {
        await app.fire(country ? { "x-vercel-ip-country": country, "user-agent": ua } : { "user-agent": ua });
      }
      const { page, close } = await open(browser, app, options);
      for (let i = 0; i < 3; i++) {
        await fire(page, "wait");
        await fire(page, "awaited");
      }
      assert.equal(await page.locator("#history li").count(), 6);
      assert.equal(await page.locator("#chart .mark").count(), 6);
      // Nothing may be wider than the viewport: no sideways scrolling at 360 px.
      assert.ok(await overflow(page) <= 0, `${file}: the page is ${await overflow(page)}px wider than the viewport`);
      await page.screenshot({ path: join(ARTIFACTS, file), fullPage: true });
      await close();
    }
  });
});
