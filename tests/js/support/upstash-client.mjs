// Upstash's official client (@upstash/redis) as an independent reader and writer of our records.
// Run by tests/it/emulator.rs: `node upstash-client.mjs read|write` with UPSTASH_URL and
// UPSTASH_TOKEN set. Prints JSON on stdout.
import { Redis } from "@upstash/redis";

const redis = new Redis({
  url: process.env.UPSTASH_URL,
  token: process.env.UPSTASH_TOKEN,
  responseEncoding: false,
});
// The app's sorted set (its default key): each record's JSON, scored by its time in ms.
const KEY = "requests:newest";

const action = process.argv[2];
if (action === "read") {
  // The ten newest, newest first. The client parses stored JSON strings back into objects by
  // itself.
  console.log(JSON.stringify(await redis.zrange(KEY, 0, 9, { rev: true })));
} else if (action === "write") {
  const timestamp = Date.now();
  // A v7 id made at `timestamp`: its first 48 bits are that time in ms.
  const time = timestamp.toString(16).padStart(12, "0");
  const record = {
    id: `${time.slice(0, 8)}-${time.slice(8)}-7000-8000-000000000001`,
    timestamp,
    method: "POST",
    userAgent: "written by @upstash/redis",
    country: "SE",
    flag: "\u{1F1F8}\u{1F1EA}",
  };
  await redis.zadd(KEY, { score: timestamp, member: JSON.stringify(record) });
  await redis.zremrangebyrank(KEY, 0, -11);
  console.log(JSON.stringify(record));
} else {
  console.error("usage: upstash-client.mjs read|write");
  process.exit(2);
}
