// Test harness: runs the roomd binary as a child process and connects official
// socket.io-client sockets to it. Everything is torn down by `closeAll()` (use it in an
// `afterEach` hook), and every wait has a timeout so that a test can fail but never hang.

import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { io } from "socket.io-client";

/** The repository root. */
export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");

/** The server binary: `ROOMD_BIN`, or the debug build of this repository. */
export const ROOMD_BIN = process.env.ROOMD_BIN || path.join(REPO, "target/debug/roomd");

/** Options for `test()`: no test may run longer than this. */
export const TEST = { timeout: 15_000 };

const STARTUP_MS = 10_000;
const SHUTDOWN_MS = 10_000; // the server allows itself 5 s of grace
const LISTENING = /roomd listening address=(\S+) path=(\S+)/;
const ANSI = /\x1b\[[0-9;]*m/g;

const servers = new Set();
const sockets = new Set();

/** Kill leftovers if the test process itself dies. */
process.on("exit", () => {
  for (const server of servers) server.child.kill("SIGKILL");
});

/**
 * Starts roomd with `configToml` written to a temporary file, on a free loopback port.
 * Resolves to `{ url, stop() }` once the server has logged its address; `stop()` sends
 * SIGTERM and asserts a clean exit (code 0).
 */
export async function startServer(configToml = "") {
  const dir = await mkdtemp(path.join(tmpdir(), "roomd-e2e-"));
  const configFile = path.join(dir, "config.toml");
  await writeFile(configFile, configToml);
  const child = spawn(ROOMD_BIN, ["--config", configFile, "--listen", "127.0.0.1:0"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, RUST_LOG: process.env.ROOMD_LOG || "info" },
  });
  const log = [];
  const exited = new Promise((resolve) => {
    child.once("exit", (code, signal) => resolve({ code, signal }));
    child.once("error", (error) => resolve({ code: null, signal: null, error }));
  });
  child.stderr.setEncoding("utf8").on("data", (chunk) => log.push(chunk));

  const server = { child, log };
  servers.add(server);
  try {
    const [address, socketPath] = await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`roomd did not start within ${STARTUP_MS} ms`)), STARTUP_MS);
      createInterface({ input: child.stdout }).on("line", (raw) => {
        const line = raw.replace(ANSI, "");
        log.push(line + "\n");
        const match = LISTENING.exec(line);
        if (match) {
          clearTimeout(timer);
          resolve([match[1], match[2]]);
        }
      });
      exited.then(({ code, signal, error }) => {
        clearTimeout(timer);
        reject(new Error(`roomd exited before listening (code ${code}, signal ${signal}) ${error ?? ""}\n${log.join("")}`));
      });
    });
    assert.equal(socketPath, "/socket.io/", "tests assume the default Socket.IO path");
    server.url = `http://${address}`;
  } catch (error) {
    child.kill("SIGKILL");
    servers.delete(server);
    await rm(dir, { recursive: true, force: true });
    throw error;
  }

  let stopping;
  server.stop = () => {
    stopping ??= (async () => {
      child.kill("SIGTERM");
      let timer;
      const timeout = new Promise((resolve) => {
        timer = setTimeout(() => resolve(null), SHUTDOWN_MS);
      });
      const result = await Promise.race([exited, timeout]);
      clearTimeout(timer);
      servers.delete(server);
      await rm(dir, { recursive: true, force: true });
      if (result === null) {
        child.kill("SIGKILL");
        assert.fail(`roomd did not exit within ${SHUTDOWN_MS} ms of SIGTERM\n${log.join("")}`);
      }
      assert.deepEqual(
        { code: result.code, signal: result.signal },
        { code: 0, signal: null },
        `roomd should exit 0 on SIGTERM\n${log.join("")}`,
      );
    })();
    return stopping;
  };
  return { url: server.url, stop: server.stop, log, configFile };
}

/**
 * Registers a client socket (e.g. from `manager.socket(nsp)`) for cleanup and resolves
 * once it is connected; rejects with the `connect_error` error, or on timeout.
 */
export function connected(socket, timeoutMs = 5_000) {
  sockets.add(socket);
  if (socket.connected) return Promise.resolve(socket);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      done();
      reject(new Error(`socket ${socket.nsp} did not connect within ${timeoutMs} ms`));
    }, timeoutMs);
    const onConnect = () => {
      done();
      resolve(socket);
    };
    const onError = (error) => {
      done();
      reject(error);
    };
    const done = () => {
      clearTimeout(timer);
      socket.off("connect", onConnect);
      socket.off("connect_error", onError);
    };
    socket.on("connect", onConnect);
    socket.on("connect_error", onError);
  });
}

/**
 * A new client (its own Manager, no automatic reconnection unless `opts` asks for it)
 * connected to `urlWithNamespace`, e.g. `${url}/chat`.
 */
export function connect(urlWithNamespace, opts = {}) {
  return connected(io(urlWithNamespace, { forceNew: true, reconnection: false, timeout: 5_000, ...opts }));
}

/** Resolves with the arguments of the next `event` on `emitter`; rejects after `timeoutMs`. */
export function once(emitter, event, timeoutMs = 2_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.off(event, listener);
      reject(new Error(`no "${event}" within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (...args) => {
      clearTimeout(timer);
      emitter.off(event, listener);
      resolve(args);
    };
    emitter.on(event, listener);
  });
}

/** Emits with an acknowledgement and resolves with the server's reply (2 s timeout). */
export function emitWithAck(socket, ...args) {
  return socket.timeout(2_000).emitWithAck(...args);
}

/** Every `event` on `socket` from now on, as an array of argument lists. */
export function collect(socket, event) {
  const seen = [];
  socket.on(event, (...args) => seen.push(args));
  return seen;
}

/**
 * Asserts that `socket` receives no `event` during the next `ms` milliseconds. Call it
 * before triggering whatever must not reach `socket`, and await it afterwards.
 */
export async function expectNothing(socket, event, ms = 200) {
  const seen = [];
  const listener = (...args) => seen.push(args);
  socket.on(event, listener);
  await new Promise((resolve) => setTimeout(resolve, ms));
  socket.off(event, listener);
  assert.deepEqual(seen, [], `${socket.nsp} socket should not have received "${event}"`);
}

/** Disconnects every client and stops every server still running (asserting exit 0). */
export async function closeAll() {
  for (const socket of sockets) socket.disconnect();
  sockets.clear();
  const running = [...servers];
  await Promise.all(running.map((server) => server.stop()));
}
