// Real storage for the browser suite, as testkit/src/redis.rs and testkit/src/emulator.rs give
// it to the Rust suites: a `redis-server` of our own on a free port (no persistence), and the
// Upstash REST emulator (`@humanwhocodes/upstash-redis-server`, in node_modules) in front of it.
// A missing `redis-server`, `redis-cli` or emulator fails the test that needs it: `cargo xtask
// provision` installs them, and no test is skipped for want of one.
import { execFile, spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { connect } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort } from "./app.mjs";

/**
 * The sorted set the app keeps its newest records in (its default key): each record's JSON text
 * a member, scored by its time in milliseconds; the app reads the ten of highest score.
 */
export const RECENT = "requests:newest";
const TOKEN = "emulator-token";
const EMULATOR = join(dirname(fileURLToPath(import.meta.url)), "..", "node_modules",
  "@humanwhocodes", "upstash-redis-server", "dist", "server.js");
const PROVISION = "run `cargo xtask provision`";

/** Spawns `command`; `died()` says why it is gone (it could not start, or it exited), or null. */
function start(command, args, env = process.env) {
  const child = spawn(command, args, { env, stdio: ["ignore", "ignore", "pipe"] });
  let stderr = "", gone = null;
  child.stderr.on("data", (chunk) => { stderr += chunk; });
  child.once("error", (error) => { gone = `${command} could not start (${error.message}): ${PROVISION}`; });
  const exited = new Promise((resolve) => child.once("close", (code) => {
    gone ??= `${command} exited (${code}): ${stderr.trim()}`;
    resolve();
  }));
  return {
    died: () => gone,
    async stop() {
      if (!gone) child.kill("SIGTERM");
      await exited;
    },
  };
}

function cli(port, args) {
  return new Promise((resolve, reject) => {
    execFile("redis-cli", ["-p", String(port), "--raw", ...args], (error, stdout) => {
      if (error) reject(new Error(`redis-cli ${args[0]} failed (${error.message}): ${PROVISION}`));
      else resolve(stdout.trim());
    });
  });
}

/** Waits until `check()` holds; fails as soon as `process` is gone, or after `ms`. */
async function until(process, what, check, ms = 20_000) {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (process.died()) throw new Error(process.died());
    if (Date.now() > deadline) throw new Error(`${what} within ${ms / 1000} s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const listening = (port) => new Promise((resolve) => {
  const socket = connect(port, "127.0.0.1");
  socket.once("connect", () => { socket.destroy(); resolve(true); });
  socket.once("error", () => resolve(false));
});

/** A fresh redis-server, answering PING. */
export async function startRedis() {
  const port = await freePort();
  const server = start("redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]);
  await until(server, "redis-server did not answer PING", async () => (await cli(port, ["PING"])) === "PONG");
  return {
    port,
    url: `redis://127.0.0.1:${port}`,
    /** Any command, as redis-cli prints it (`--raw`). */
    cli: (args) => cli(port, args),
    /**
     * ZADD, as any other writer of the set could: `entries` are `[score, member]` pairs, the
     * score what puts the member among the ten newest, or not.
     */
    zadd: (entries) => cli(port, ["ZADD", RECENT, ...entries.flatMap(([score, member]) => [String(score), member])]),
    /** The set's `[member, score]` pairs, highest score first (all, not only the ten read). */
    scored: async () => {
      const lines = (await cli(port, ["ZRANGE", RECENT, "0", "-1", "REV", "WITHSCORES"])).split("\n").filter(Boolean);
      return lines.flatMap((line, i) => (i % 2 ? [] : [[line, Number(lines[i + 1])]]));
    },
    stop: server.stop,
  };
}

/** The emulator in front of `redis`, listening; `env` points the app at it. */
export async function startEmulator(redis) {
  if (!existsSync(EMULATOR)) throw new Error(`the Upstash emulator is missing (${EMULATOR}): ${PROVISION}`);
  const port = await freePort();
  const emulator = start(process.execPath, [EMULATOR],
    { ...process.env, URS_TOKEN: TOKEN, PORT: String(port), REDIS_URL: redis.url });
  await until(emulator, "the emulator did not listen", () => listening(port));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    env: { KV_REST_API_URL: url, KV_REST_API_TOKEN: TOKEN, KV_REST_API_READ_ONLY_TOKEN: TOKEN },
    stop: emulator.stop,
  };
}
