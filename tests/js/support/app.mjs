// Starts the real binary (WAIT_UNTIL_BIN) on a free port for a node-side suite, in an empty
// working directory and with no storage or source settings inherited, and stops it with SIGTERM.
import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const SCRUBBED = [
  "KV_REST_API_URL", "KV_REST_API_TOKEN", "KV_REST_API_READ_ONLY_TOKEN",
  "UPSTASH_REDIS_REST_URL", "UPSTASH_REDIS_REST_TOKEN", "WAIT_UNTIL_STORE", "WAIT_UNTIL_KEY",
  "VERCEL", "VERCEL_DEV", "VERCEL_IPC_PATH",
  // The page's links: a test that wants them sets them.
  "WAIT_UNTIL_SOURCE_URL", "VERCEL_GIT_PROVIDER", "VERCEL_GIT_REPO_OWNER", "VERCEL_GIT_REPO_SLUG",
  "VERCEL_GIT_COMMIT_SHA",
];

export function freePort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

export async function startApp(extraEnv = {}) {
  const binary = process.env.WAIT_UNTIL_BIN;
  if (!binary || !existsSync(binary)) {
    throw new Error(
      `WAIT_UNTIL_BIN (${binary}) is not a built binary: build it with \`cargo build --bin main\` and set WAIT_UNTIL_BIN to it (\`cargo xtask test\` does both)`,
    );
  }
  const port = await freePort();
  const env = { ...process.env };
  for (const name of SCRUBBED) delete env[name];
  Object.assign(env, extraEnv, { VERCEL_DEV_PORT: String(port) });
  const workdir = mkdtempSync(join(tmpdir(), "wait-until-ui-"));
  const child = spawn(binary, [], { env, cwd: workdir, stdio: ["ignore", "pipe", "pipe"] });
  const exited = new Promise((resolve) => child.once("exit", resolve));

  await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("the app did not start within 10 s")), 10_000);
    let seen = "";
    child.stdout.on("data", (chunk) => {
      seen += chunk;
      if (seen.includes(`Dev server listening: ${port}`)) { clearTimeout(timer); resolve(); }
    });
    child.once("exit", (code) => { clearTimeout(timer); reject(new Error(`the app exited (${code})`)); });
  });
  // Failure lines go to stderr: kept, so that a test can find a record's line.
  let errors = "";
  child.stderr.on("data", (chunk) => { errors += chunk; });

  const base = `http://127.0.0.1:${port}`;
  return {
    url: (path) => `${base}${path}`,
    /** Fires /api/wait-until with `headers` and waits until the record is listed. */
    async fire(headers = {}) {
      const res = await fetch(`${base}/api/wait-until`, { headers });
      if (res.status !== 200) throw new Error(`fire answered ${res.status}`);
      const { id } = await res.json();
      for (let i = 0; i < 100; i++) {
        const recent = await (await fetch(`${base}/api/recent`)).json();
        if (recent.requests?.some((r) => r.id === id)) return id;
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      throw new Error(`record ${id} never appeared in /api/recent`);
    },
    /** Every failure line logged so far (`wait_until.write_failed`), parsed. */
    failures() {
      return errors.split("\n").flatMap((line) => {
        try {
          const event = JSON.parse(line);
          return event.event === "wait_until.write_failed" ? [event] : [];
        } catch {
          return [];
        }
      });
    },
    /** The records of every failure line logged so far. */
    failedRecords() {
      return this.failures().flatMap((event) => event.items);
    },
    async stop() {
      child.kill("SIGTERM");
      await exited;
      rmSync(workdir, { recursive: true, force: true });
    },
  };
}
