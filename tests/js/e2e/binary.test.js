// Binary arguments are relayed intact, in both directions and over both transports.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, connect, emitWithAck, once, startServer } from "./support.js";

afterEach(closeAll);

const bytes = (n, seed) => Buffer.from(Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff));

for (const [from, to] of [["polling", "websocket"], ["websocket", "polling"]]) {
  test(`buffers relayed from a ${from} client to a ${to} client and back`, TEST, async () => {
    const { url } = await startServer();
    const a = await connect(url, { transports: [from] });
    const b = await connect(url, { transports: [to] });

    const big = bytes(70_000, 7);
    const toB = once(b, "file");
    a.emit("file", "name.bin", big, { parts: [bytes(3, 1), { deep: bytes(0, 0) }], size: big.length });
    const [name, body, meta] = await toB;
    assert.equal(name, "name.bin");
    assert.ok(Buffer.isBuffer(body));
    assert.ok(body.equals(big));
    assert.deepEqual(meta, { parts: [bytes(3, 1), { deep: bytes(0, 0) }], size: big.length });

    const toA = once(a, "reply");
    assert.deepEqual(await emitWithAck(b, "reply", bytes(16, 200)), { ok: true });
    const [reply] = await toA;
    assert.ok(Buffer.isBuffer(reply));
    assert.ok(reply.equals(bytes(16, 200)));
  });
}

test("buffers published to a room arrive intact", TEST, async () => {
  const { url } = await startServer();
  const [a, b] = await Promise.all([connect(url), connect(url, { transports: ["polling"] })]);
  await emitWithAck(b, "join", "blobs");
  const toB = once(b, "blob");
  const reply = await emitWithAck(a, "publish", { to: "blobs", event: "blob" }, bytes(5, 9), "text", [bytes(2, 3)]);
  assert.deepEqual(reply, { ok: true });
  assert.deepEqual(await toB, [bytes(5, 9), "text", [bytes(2, 3)]]);
});
