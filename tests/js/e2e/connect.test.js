// Connecting and disconnecting, over each transport, and refusing unknown namespaces.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Manager } from "socket.io-client";
import { TEST, closeAll, connect, connected, emitWithAck, once, startServer } from "./support.js";

afterEach(closeAll);

for (const transport of ["polling", "websocket"]) {
  test(`a ${transport} client connects and disconnects`, TEST, async () => {
    const { url } = await startServer();
    const a = await connect(url, { transports: [transport] });
    const b = await connect(url, { transports: [transport] });
    assert.equal(a.io.engine.transport.name, transport);
    assert.match(a.id, /^[A-Za-z0-9_-]{20}$/);
    assert.notEqual(a.id, b.id);

    // While `a` is connected its own room belongs to it; once it is gone, the server
    // has forgotten the socket and its id is an ordinary room name again.
    const refused = await emitWithAck(b, "join", a.id);
    assert.equal(refused.ok, false);
    const id = a.id;
    const disconnected = once(a, "disconnect");
    a.disconnect();
    const [reason] = await disconnected;
    assert.equal(reason, "io client disconnect");
    assert.equal(a.connected, false);
    await waitUntil(async () => (await emitWithAck(b, "join", id)).ok);
  });
}

test("an unknown namespace is refused with connect_error", TEST, async () => {
  const { url } = await startServer();
  await assert.rejects(connect(`${url}/nope`), { message: "Invalid namespace" });
});

test("a refused namespace leaves the shared connection usable", TEST, async () => {
  const { url } = await startServer();
  const manager = new Manager(url, { reconnection: false });
  const main = await connected(manager.socket("/"));
  await assert.rejects(connected(manager.socket("/nope")), { message: "Invalid namespace" });
  assert.equal(main.connected, true);
  assert.deepEqual(await emitWithAck(main, "join", "lobby"), { ok: true, rooms: ["lobby"] });
});

/** Polls `check` (the server handles a disconnect asynchronously) for up to 2 s. */
async function waitUntil(check) {
  const deadline = Date.now() + 2_000;
  while (!(await check())) {
    assert.ok(Date.now() < deadline, "condition not met within 2 s");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
