// Measures hot-swap latency: the time from replacing a plugin's .wasm (write aside, then
// rename, as a deploy does) to the first event answered by the new code, while a client
// keeps sending. Uses the counter test plugins (v1 → v2) and the release build.
//
//   make plugins && cargo build --release --bin roomd
//   node tests/bench/swap_time.mjs            (from the repository root)

import { spawn } from "node:child_process";
import { copyFileSync, mkdtempSync, renameSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { io } from "../js/node_modules/socket.io-client/build/esm/index.js";

const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), "../..");
const target = process.env.CARGO_TARGET_DIR || path.join(root, "target");
const dist = path.join(root, "tests/plugins/dist");
const dir = mkdtempSync(path.join(tmpdir(), "roomd-swap-"));
copyFileSync(path.join(dist, "counter.wasm"), path.join(dir, "counter.wasm"));
writeFileSync(path.join(dir, "config.toml"), '[plugins.counter]\npath = "counter.wasm"\n[[namespace]]\nname = "/"\nplugins = ["counter"]\n');

const server = spawn(path.join(target, "release/roomd"), ["--config", path.join(dir, "config.toml"), "--listen", "127.0.0.1:0"]);
const url = await new Promise((resolve) => {
  createInterface({ input: server.stdout }).on("line", (line) => {
    const match = /address=(\S+)/.exec(line);
    if (match) resolve(`http://${match[1]}`);
  });
});
const socket = io(url, { transports: ["websocket"] });
await new Promise((resolve) => socket.on("connect", resolve));

const rounds = [];
for (let round = 0; round < 5; round++) {
  const next = round % 2 === 0 ? "counter-v2.wasm" : "counter.wasm";
  const want = round % 2 === 0 ? 2 : 1;
  const aside = path.join(dir, "incoming.wasm");
  copyFileSync(path.join(dist, next), aside);
  const written = performance.now();
  renameSync(aside, path.join(dir, "counter.wasm"));
  let count = 0;
  for (;;) {
    const [answer] = [await socket.timeout(5000).emitWithAck("tick")];
    count = answer.count;
    if (answer.version === want) break;
  }
  rounds.push(performance.now() - written);
  await new Promise((resolve) => setTimeout(resolve, 300));
}
console.log(`swap (file replaced → new code answering): ${rounds.map((ms) => ms.toFixed(0)).join(", ")} ms; debounce is 150 ms`);
socket.close();
server.kill("SIGTERM");
