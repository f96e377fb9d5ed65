// Namespaces: separate sockets and rooms on one multiplexed connection; dynamic namespaces.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { Manager } from "socket.io-client";
import { TEST, closeAll, connect, connected, emitWithAck, expectNothing, once, startServer } from "./support.js";

afterEach(closeAll);

const TWO = `
[[namespace]]
name = "/"

[[namespace]]
name = "/chat"
`;

/** One Manager (one Engine.IO connection) carrying a socket in "/" and one in "/chat". */
async function client(url) {
  const manager = new Manager(url, { reconnection: false });
  const [main, chat] = await Promise.all([connected(manager.socket("/")), connected(manager.socket("/chat"))]);
  return { main, chat };
}

test("two namespaces share one connection but not their sockets", TEST, async () => {
  const { url } = await startServer(TWO);
  const a = await client(url);
  const b = await client(url);
  assert.equal(a.main.io, a.chat.io);
  assert.equal(a.main.io.engine.id, a.chat.io.engine.id);
  assert.notEqual(a.main.id, a.chat.id);

  let quiet = expectNothing(b.main, "chat");
  let toChat = once(b.chat, "chat");
  a.chat.emit("chat", "in /chat");
  assert.deepEqual(await toChat, ["in /chat"]);
  await quiet;

  quiet = expectNothing(b.chat, "chat");
  const toMain = once(b.main, "chat");
  a.main.emit("chat", "in /");
  assert.deepEqual(await toMain, ["in /"]);
  await quiet;
});

test("rooms belong to a namespace", TEST, async () => {
  const { url } = await startServer(TWO);
  const a = await client(url);
  const b = await client(url);
  await emitWithAck(a.main, "join", "lobby");

  const quiet = [expectNothing(a.main, "news"), expectNothing(a.chat, "news")];
  assert.deepEqual(await emitWithAck(b.chat, "publish", { to: "lobby", event: "news" }, "from /chat"), { ok: true });
  assert.deepEqual(await emitWithAck(b.chat, "publish", { to: a.main.id, event: "news" }, "from /chat"), { ok: true });
  await Promise.all(quiet);

  const toMain = once(a.main, "news");
  await emitWithAck(b.main, "publish", { to: "lobby", event: "news" }, "from /");
  assert.deepEqual(await toMain, ["from /"]);
});

const DYNAMIC = `
[[namespace]]
name = "/"

[[namespace]]
pattern = "^/team-[a-z]+$"
relay = "rooms"
join = ["desk-*"]
`;

test("a dynamic namespace serves every matching name, each with its own sockets", TEST, async () => {
  const { url } = await startServer(DYNAMIC);
  await assert.rejects(connect(`${url}/team-42`), { message: "Invalid namespace" });
  const [red1, red2, blue] = await Promise.all([
    connect(`${url}/team-red`),
    connect(`${url}/team-red`),
    connect(`${url}/team-blue`),
  ]);
  assert.equal(red1.nsp, "/team-red");
  assertRefusedJoin(await emitWithAck(red1, "join", "lobby"));
  for (const socket of [red1, red2, blue]) {
    assert.equal((await emitWithAck(socket, "join", "desk-1")).ok, true);
  }

  const quiet = [expectNothing(blue, "chat"), expectNothing(red1, "chat")];
  const toRed2 = once(red2, "chat");
  assert.deepEqual(await emitWithAck(red1, "chat", "red only"), { ok: true });
  assert.deepEqual(await toRed2, ["red only"]);
  await Promise.all(quiet);
});

test("a dynamic namespace can be used again after its last socket left", TEST, async () => {
  const { url } = await startServer(DYNAMIC);
  const first = await connect(`${url}/team-red`);
  await emitWithAck(first, "join", "desk-1");
  const gone = once(first, "disconnect");
  first.disconnect();
  await gone;

  const [a, b] = await Promise.all([connect(`${url}/team-red`), connect(`${url}/team-red`)]);
  assert.deepEqual(await emitWithAck(a, "join", "desk-1"), { ok: true, rooms: ["desk-1"] });
  await emitWithAck(b, "join", "desk-1");
  const toB = once(b, "chat");
  await emitWithAck(a, "chat", "again");
  assert.deepEqual(await toB, ["again"]);
});

function assertRefusedJoin(reply) {
  assert.equal(reply.ok, false);
  assert.equal(typeof reply.error, "string");
}
