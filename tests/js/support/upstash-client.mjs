// Upstash's official client (@upstash/redis) as an independent reader and writer of our records.
// Run by tests/it/emulator.rs: `node upstash-client.mjs read|write` with UPSTASH_URL and
// UPSTASH_TOKEN set. Prints JSON on stdout.
import { Redis } from "@upstash/redis";

const redis = new Redis({
  url: process.env.UPSTASH_URL,
  token: process.env.UPSTASH_TOKEN,
  responseEncoding: false,
});
const KEY = "requests:recent";

const action = process.argv[2];
if (action === "read") {
  // The client parses stored JSON strings back into objects by itself.
  console.log(JSON.stringify(await redis.lrange(KEY, 0, 9)));
} else if (action === "write") {
  const record = {
    id: "01a00000-0000-7000-8000-000000000001",
    timestamp: Date.now(),
    method: "POST",
    userAgent: "written by @upstash/redis",
    country: "SE",
    flag: "\u{1F1F8}\u{1F1EA}",
  };
  await redis.lpush(KEY, JSON.stringify(record));
  await redis.ltrim(KEY, 0, 9);
  console.log(JSON.stringify(record));
} else {
  console.error("usage: upstash-client.mjs read|write");
  process.exit(2);
}
