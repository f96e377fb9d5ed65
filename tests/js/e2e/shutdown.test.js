// SIGTERM: the server closes every connection at the transport level, so clients stay
// active (they try to reconnect), and the process exits 0.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, connect, once, startServer } from "./support.js";

afterEach(closeAll);

const RETRY = { reconnection: true, reconnectionDelay: 100, reconnectionDelayMax: 100 };

test("shutdown closes websocket clients with transport close, then exits 0", TEST, async () => {
  const server = await startServer();
  const direct = await connect(server.url, { ...RETRY, transports: ["websocket"] });
  const upgraded = await connect(server.url, RETRY);
  if (upgraded.io.engine.transport.name !== "websocket") await once(upgraded.io.engine, "upgrade", 5_000);
  const clients = [direct, upgraded];
  const disconnects = clients.map((socket) => once(socket, "disconnect", 5_000));
  const retries = clients.map((socket) => once(socket.io, "reconnect_attempt", 5_000));

  await server.stop(); // asserts exit code 0

  for (const disconnect of disconnects) {
    const [reason] = await disconnect;
    assert.equal(reason, "transport close");
  }
  for (const socket of clients) assert.equal(socket.active, true, "the client should try to reconnect");
  await Promise.all(retries);
});

// A long-polling client only hears "transport close" if its GET is pending when the
// server stops; between two polls (which this test cannot control) the session is already
// gone and the next poll fails, which the client reports as "transport error". Either
// way the client must stay active and try to reconnect.
test("shutdown ends polling clients, which then try to reconnect", TEST, async () => {
  const server = await startServer();
  const socket = await connect(server.url, { ...RETRY, transports: ["polling"] });
  const disconnect = once(socket, "disconnect", 5_000);
  const retry = once(socket.io, "reconnect_attempt", 5_000);

  await server.stop();

  const [reason] = await disconnect;
  assert.ok(["transport close", "transport error"].includes(reason), `unexpected reason ${reason}`);
  assert.equal(socket.active, true);
  await retry;
});
