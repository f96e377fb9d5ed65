// Engine and Socket.IO settings from config.toml take effect.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Manager } from "socket.io-client";
import { TEST, closeAll, connect, expectNothing, once, startServer } from "./support.js";

afterEach(closeAll);

test("allowed_origins admits listed origins and requests without one, refuses others", TEST, async () => {
  const { url } = await startServer(`[engine]\nallowed_origins = ["http://good.example"]\n`);
  for (const transport of ["polling", "websocket"]) {
    const options = (origin) => ({ transports: [transport], extraHeaders: origin ? { origin } : {} });
    await connect(url, options("http://good.example"));
    await connect(url, options(null));
    await assert.rejects(connect(url, options("http://evil.example")));
  }
});

test("ping_interval_ms: the server pings at the configured pace and clients stay connected", TEST, async () => {
  const { url } = await startServer(`[engine]\nping_interval_ms = 100\nping_timeout_ms = 200\n`);
  const [a, b] = await Promise.all([connect(url, { transports: ["polling"] }), connect(url, { transports: ["websocket"] })]);
  for (let i = 0; i < 3; i++) await Promise.all([once(a.io.engine, "ping", 1_000), once(b.io.engine, "ping", 1_000)]);
  const toB = once(b, "chat");
  a.emit("chat", "still here");
  assert.deepEqual(await toB, ["still here"]);
});

test("connect_timeout_ms closes a connection that joins no namespace", TEST, async () => {
  const { url } = await startServer(`[socketio]\nconnect_timeout_ms = 300\n`);
  const idle = new Manager(url, { autoConnect: false, reconnection: false });
  const closed = once(idle, "close", 3_000);
  idle.open();
  const busy = await connect(url);
  await closed;
  await expectNothing(busy, "disconnect");
  assert.equal(busy.connected, true);
});

for (const transport of ["polling", "websocket"]) {
  test(`max_payload_bytes: a ${transport} client sending more is disconnected`, TEST, async () => {
    const { url } = await startServer(`[engine]\nmax_payload_bytes = 1000\n`);
    const a = await connect(url, { transports: [transport] });
    const b = await connect(url);
    const small = once(b, "chat");
    a.emit("chat", "x".repeat(500));
    assert.deepEqual(await small, ["x".repeat(500)]);

    const quiet = expectNothing(b, "chat");
    const disconnected = once(a, "disconnect");
    a.emit("chat", "x".repeat(5_000));
    await disconnected;
    await quiet;
  });
}

test("max_attachments: a packet with more binary attachments closes the connection", TEST, async () => {
  const { url } = await startServer(`[socketio]\nmax_attachments = 2\n`);
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  const two = once(b, "blobs");
  a.emit("blobs", Buffer.from([1]), Buffer.from([2]));
  assert.deepEqual(await two, [Buffer.from([1]), Buffer.from([2])]);

  const quiet = expectNothing(b, "blobs");
  const disconnected = once(a, "disconnect");
  a.emit("blobs", Buffer.from([1]), Buffer.from([2]), Buffer.from([3]));
  await disconnected;
  await quiet;
});
