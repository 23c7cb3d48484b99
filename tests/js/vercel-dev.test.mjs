// The pinned Vercel CLI's own `vercel dev --local` on a copy of this project, as a newcomer runs
// it: no account, no network, no Upstash settings. The CLI builds the function with Cargo on the
// first request and then starts a new process of it for every request, so this proves that
// records outlive those processes: through every route, and through the page in real headless
// Chromium. `cargo xtask test` sets VERCEL_CLI (the pinned CLI) and VERCEL_DEV_PROJECT (the copy,
// made by `cargo xtask vercel-dev`); without them the suite fails, it is never skipped.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { freePort, SCRUBBED } from "./support/app.mjs";
import { launch, open, fire, listIds } from "./support/page.mjs";

const CLI = process.env.VERCEL_CLI;
const PROJECT = process.env.VERCEL_DEV_PROJECT;
// The first request compiles the function (minutes on a cold target folder with two cores).
const FIRST_BUILD_MS = 15 * 60_000;
const STORED = ".vercel/dev/requests-newest.json";

let cli; // the CLI's process, leader of its own process group
let output = ""; // what the CLI printed, the function's own lines included
let base;
let browser;

before(async () => {
  assert.ok(CLI && existsSync(CLI), `VERCEL_CLI (${CLI}) is not the pinned Vercel CLI: run \`cargo xtask vercel-dev\``);
  assert.ok(PROJECT && existsSync(join(PROJECT, "vercel.json")), `VERCEL_DEV_PROJECT (${PROJECT}) is not a copy of the project`);
  // A newcomer's first run: nothing stored yet.
  for (const name of [STORED, `${STORED}.lock`, `${STORED}.tmp`]) rmSync(join(PROJECT, name), { force: true });
  const port = await freePort();
  const env = { ...process.env, VERCEL_TELEMETRY_DISABLED: "1" };
  for (const name of SCRUBBED) delete env[name];
  // The CLI builds in the copy's own target folder: a shared one would have its build replace
  // the binary the other suites run, and a default target would move the binary it then looks for.
  delete env.CARGO_TARGET_DIR;
  delete env.CARGO_BUILD_TARGET;
  // `detached`: a process group of its own, so that every process the CLI starts can be stopped
  // and counted at the end.
  cli = spawn(CLI, ["dev", "--local", "--yes", "--listen", `127.0.0.1:${port}`], {
    cwd: PROJECT, env, detached: true, stdio: ["ignore", "pipe", "pipe"],
  });
  cli.stdout.on("data", (chunk) => { output += chunk; });
  cli.stderr.on("data", (chunk) => { output += chunk; });
  await until(() => output.includes("Ready! Available at"), 120_000, "the CLI to say it is ready");
  base = `http://127.0.0.1:${port}`;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  if (!cli) return;
  const group = -cli.pid;
  signal(group, "SIGINT"); // what Ctrl-C sends: the CLI stops the function processes itself
  const stopped = await until(() => !signal(group, 0), 45_000, "", false);
  if (!stopped) signal(group, "SIGKILL");
  assert.ok(stopped, `processes of \`vercel dev\` were still running 45 s after Ctrl-C:\n${output.slice(-2000)}`);
});

/** Sends `name` to the process group; false once none of its processes is left. */
function signal(group, name) {
  try {
    process.kill(group, name);
    return true;
  } catch (error) {
    if (error.code === "ESRCH") return false;
    throw error;
  }
}

async function until(done, ms, what, fail = true) {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await done()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  if (fail) throw new Error(`waited ${ms / 1000} s for ${what}; the CLI printed:\n${output.slice(-3000)}`);
  return false;
}

async function get(path) {
  const response = await fetch(`${base}${path}`);
  const text = await response.text();
  let body = null;
  try { body = JSON.parse(text); } catch { /* the page, or a non-JSON error */ }
  return { status: response.status, headers: response.headers, body, text };
}

const recentIds = async () => {
  const { status, body } = await get("/api/recent");
  assert.equal(status, 200, JSON.stringify(body));
  return body.requests.map((record) => record.id);
};

test("the first request builds the function, which names its store: a file, as nothing is configured", { timeout: FIRST_BUILD_MS }, async () => {
  const { status, body } = await get("/api/recent");
  assert.equal(status, 200, `${JSON.stringify(body)}\n${output.slice(-3000)}`);
  assert.deepEqual(body, { requests: [], storage: "file", skipped: 0 });
  assert.match(output, /storage: file \(no Upstash settings, and vercel dev starts a process for each request/);
});

test("a fire answers at once, and its record is read by the processes after it", async () => {
  const { status, body } = await get("/api/wait-until");
  assert.equal(status, 200);
  assert.equal(body.recorded, true);
  assert.equal(body.storage, "file");
  assert.equal(body.awaited, false);
  await until(async () => (await recentIds()).includes(body.id), 30_000, `record ${body.id} in /api/recent`);
  const processes = output.match(/Dev server listening: \d+/g).length;
  assert.ok(processes >= 3, `a process per request: ${processes} started`);
});

test("an awaited fire is stored before it answers: the next process lists it first", async () => {
  const { status, body } = await get("/api/wait-until?await=1");
  assert.equal(status, 200, JSON.stringify(body));
  assert.equal(body.awaited, true);
  assert.equal(body.attempts, 1);
  assert.equal((await recentIds())[0], body.id);
});

test("fires at once, each in its own process, all land", async () => {
  const answers = await Promise.all([1, 2, 3, 4].map(() => get("/api/wait-until?await=1")));
  const ids = answers.map(({ status, body }) => {
    assert.equal(status, 200, JSON.stringify(body));
    return body.id;
  });
  const listed = await recentIds();
  for (const id of ids) assert.ok(listed.includes(id), `${id} in ${listed}`);
});

test("the other routes: the source links, an unknown path's 404, the page with its policy", async () => {
  const source = await get("/api/source");
  assert.equal(source.status, 200);
  assert.deepEqual(source.body, { source: null, deploySteps: null });
  const missing = await get("/api/no-such-route");
  assert.equal(missing.status, 404);
  assert.deepEqual(missing.body, { error: "not found" });
  const page = await get("/");
  assert.equal(page.status, 200);
  assert.match(page.headers.get("content-type"), /^text\/html/);
  assert.match(page.headers.get("content-security-policy"), /script-src 'sha256-/);
  assert.match(page.text, /id="fire"/);
});

test("on the page, a fire shows as seen in the list, and the list names the file store", async () => {
  const { page, close } = await open(browser, { url: (path) => `${base}${path}` });
  const { status, id } = await fire(page);
  assert.equal(status, 200);
  assert.match(await page.textContent("#wait-detail"), /visible after \d+ ms \(polled\)$/);
  assert.ok((await listIds(page)).includes(id));
  assert.equal(await page.textContent("#storage"), "Storage: file");
  assert.match(await page.textContent("#storage-hint"), /\.vercel\/dev\//);
  await close();
});
