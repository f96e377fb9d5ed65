// Each transport carries events both ways: polling only, WebSocket only, and a client
// that starts on polling and upgrades to WebSocket.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, connect, emitWithAck, once, startServer } from "./support.js";

afterEach(closeAll);

/** `a` and `b` exchange an event each way and a join/publish round trip. */
async function exchange(a, b) {
  const toB = once(b, "chat");
  a.emit("chat", "a to b");
  assert.deepEqual(await toB, ["a to b"]);
  const toA = once(a, "chat");
  b.emit("chat", "b to a", { n: 2 });
  assert.deepEqual(await toA, ["b to a", { n: 2 }]);

  assert.deepEqual(await emitWithAck(a, "join", "room"), { ok: true, rooms: ["room"] });
  const published = once(a, "news");
  assert.deepEqual(await emitWithAck(b, "publish", { to: "room", event: "news" }, "hi"), { ok: true });
  assert.deepEqual(await published, ["hi"]);
}

test("a polling-only client exchanges events", TEST, async () => {
  const { url } = await startServer();
  const a = await connect(url, { transports: ["polling"] });
  const b = await connect(url);
  await exchange(a, b);
  assert.equal(a.io.engine.transport.name, "polling");
});

test("a websocket-only client exchanges events", TEST, async () => {
  const { url } = await startServer();
  const a = await connect(url, { transports: ["websocket"] });
  const b = await connect(url, { transports: ["polling"] });
  await exchange(a, b);
  assert.equal(a.io.engine.transport.name, "websocket");
});

test("a default client upgrades from polling to websocket and keeps exchanging", TEST, async () => {
  const { url } = await startServer();
  const a = await connect(url);
  const b = await connect(url, { transports: ["polling"] });
  if (a.io.engine.transport.name !== "websocket") {
    const [transport] = await once(a.io.engine, "upgrade", 5_000);
    assert.equal(transport.name, "websocket");
  }
  assert.equal(a.io.engine.transport.name, "websocket");
  await exchange(a, b);
});

test("a server configured for polling only refuses websocket and serves polling", TEST, async () => {
  const { url } = await startServer(`[engine]\ntransports = ["polling"]\n`);
  await assert.rejects(connect(url, { transports: ["websocket"] }));
  const a = await connect(url);
  const b = await connect(url);
  await exchange(a, b);
  assert.equal(a.io.engine.transport.name, "polling");
});

test("events keep their order in both directions while a client upgrades", TEST, async () => {
  const { url } = await startServer();
  const b = await connect(url, { transports: ["websocket"] });
  const a = await connect(url);
  const count = 200;
  const receive = (socket, event) =>
    new Promise((resolve, reject) => {
      const seen = [];
      const timer = setTimeout(() => reject(new Error(`${event}: only ${seen.length} of ${count}`)), 5_000);
      socket.on(event, (n) => {
        seen.push(n);
        if (seen.length === count) {
          clearTimeout(timer);
          resolve(seen);
        }
      });
    });
  const atA = receive(a, "down");
  const atB = receive(b, "up");
  for (let n = 0; n < count; n++) {
    a.emit("up", n);
    b.emit("down", n);
    if (n % 20 === 0) await new Promise((resolve) => setImmediate(resolve)); // let the upgrade interleave
  }
  const expected = Array.from({ length: count }, (_, n) => n);
  assert.deepEqual(await atA, expected);
  assert.deepEqual(await atB, expected);
  if (a.io.engine.transport.name !== "websocket") await once(a.io.engine, "upgrade", 5_000);
});
