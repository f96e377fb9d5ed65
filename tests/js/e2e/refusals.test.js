// Room requests the namespace policy refuses, answered {ok:false, error} through the ack.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, connect, emitWithAck, expectNothing, startServer } from "./support.js";

afterEach(closeAll);

const CHAT = `
[[namespace]]
name = "/"

[[namespace]]
name = "/chat"
relay = "rooms"
join = ["room-*"]
publish = ["room-*"]
max_rooms = 2
`;

function assertRefused(reply) {
  assert.equal(reply.ok, false, `expected a refusal, got ${JSON.stringify(reply)}`);
  assert.equal(typeof reply.error, "string");
  assert.ok(reply.error.length > 0);
}

test("join is refused for a name outside the join patterns, and nothing is joined", TEST, async () => {
  const { url } = await startServer(CHAT);
  const a = await connect(`${url}/chat`);
  assertRefused(await emitWithAck(a, "join", "lobby"));
  assertRefused(await emitWithAck(a, "join", ["room-1", "lobby"]));
  assert.deepEqual(await emitWithAck(a, "join", "room-1"), { ok: true, rooms: ["room-1"] });
});

test("join is refused beyond max_rooms; rejoining a room does not count", TEST, async () => {
  const { url } = await startServer(CHAT);
  const a = await connect(`${url}/chat`);
  assert.deepEqual(await emitWithAck(a, "join", ["room-1", "room-2"]), { ok: true, rooms: ["room-1", "room-2"] });
  assertRefused(await emitWithAck(a, "join", "room-3"));
  assert.deepEqual(await emitWithAck(a, "join", "room-1"), { ok: true, rooms: ["room-1", "room-2"] });
  await emitWithAck(a, "leave", "room-2");
  assert.deepEqual(await emitWithAck(a, "join", "room-3"), { ok: true, rooms: ["room-1", "room-3"] });
});

test("join is refused for another connected socket's id", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  assertRefused(await emitWithAck(a, "join", b.id));
  assertRefused(await emitWithAck(a, "join", ["mine", b.id]));
  const quiet = expectNothing(a, "dm");
  await emitWithAck(c, "publish", { to: b.id, event: "dm" }, "private");
  await quiet;
});

test("publish is refused for a room outside the publish patterns", TEST, async () => {
  const { url } = await startServer(CHAT);
  const [a, b] = await Promise.all([connect(`${url}/chat`), connect(`${url}/chat`)]);
  await emitWithAck(b, "join", "room-1");
  const quiet = expectNothing(b, "news");
  assertRefused(await emitWithAck(a, "publish", { to: ["room-1", b.id], event: "news" }, "x"));
  assertRefused(await emitWithAck(a, "publish", { to: "lobby", event: "news" }, "x"));
  await quiet;
});

test("malformed requests are refused", TEST, async () => {
  const { url } = await startServer();
  const a = await connect(url);
  assertRefused(await emitWithAck(a, "join", []));
  assertRefused(await emitWithAck(a, "join", 42));
  assertRefused(await emitWithAck(a, "join", ""));
  assertRefused(await emitWithAck(a, "leave"));
  assertRefused(await emitWithAck(a, "publish", { to: [], event: "news" }));
  assertRefused(await emitWithAck(a, "publish", { to: "x" }));
  assertRefused(await emitWithAck(a, "publish", { to: "x", event: "disconnect" }));
  assertRefused(await emitWithAck(a, "publish", "x"));
});

test("a room named twice in one join counts once against max_rooms", TEST, async () => {
  const { url } = await startServer(CHAT);
  const a = await connect(`${url}/chat`);
  await emitWithAck(a, "join", "room-1");
  assert.deepEqual(await emitWithAck(a, "join", ["room-2", "room-2"]), { ok: true, rooms: ["room-1", "room-2"] });
});
