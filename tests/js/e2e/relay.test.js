// Ordinary events under the three relay modes: "namespace" (the default), "rooms", "none".

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, connect, emitWithAck, expectNothing, once, startServer } from "./support.js";

afterEach(closeAll);

test("relay namespace: an event reaches every other client, not the sender", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  const echo = expectNothing(a, "chat");
  const toB = once(b, "chat");
  const toC = once(c, "chat");
  a.emit("chat", "hello", { from: "a", n: [1, 2.5, null, true] });
  const expected = ["hello", { from: "a", n: [1, 2.5, null, true] }];
  assert.deepEqual(await toB, expected);
  assert.deepEqual(await toC, expected);
  await echo;
});

test("a relayed event asking for an ack is answered {ok:true}; receivers get no ack callback", TEST, async () => {
  const { url } = await startServer();
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  const toB = once(b, "chat");
  assert.deepEqual(await emitWithAck(a, "chat", "hi"), { ok: true });
  assert.deepEqual(await toB, ["hi"]);
});

const ROOMS = `
[[namespace]]
name = "/"
relay = "rooms"
`;

test("relay rooms: an event reaches only clients sharing a joined room", TEST, async () => {
  const { url } = await startServer(ROOMS);
  const [a, b, c, d] = await Promise.all([connect(url), connect(url), connect(url), connect(url)]);
  await emitWithAck(a, "join", ["red", "blue"]);
  await emitWithAck(b, "join", "red");
  await emitWithAck(c, "join", "blue");
  await emitWithAck(d, "join", "green");
  const quiet = [expectNothing(a, "chat"), expectNothing(d, "chat")];
  const toB = once(b, "chat");
  const toC = once(c, "chat");
  assert.deepEqual(await emitWithAck(a, "chat", "to red and blue"), { ok: true });
  assert.deepEqual(await toB, ["to red and blue"]);
  assert.deepEqual(await toC, ["to red and blue"]);
  await Promise.all(quiet);
});

test("relay rooms: a client in no room reaches nobody, not even through its own room", TEST, async () => {
  const { url } = await startServer(ROOMS);
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  await emitWithAck(b, "join", "red");
  const quiet = expectNothing(b, "chat");
  assert.deepEqual(await emitWithAck(a, "chat", "anyone?"), { ok: true });
  await quiet;
});

const NONE = `
[[namespace]]
name = "/"
relay = "none"
`;

test("relay none: events go nowhere and an ack request is refused; publish still works", TEST, async () => {
  const { url } = await startServer(NONE);
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  await emitWithAck(b, "join", "red");
  const quiet = expectNothing(b, "chat");
  a.emit("chat", "lost");
  const reply = await emitWithAck(a, "chat", "lost too");
  assert.equal(reply.ok, false);
  assert.equal(typeof reply.error, "string");
  await quiet;

  const toB = once(b, "news");
  assert.deepEqual(await emitWithAck(a, "publish", { to: "red", event: "news" }, "published"), { ok: true });
  assert.deepEqual(await toB, ["published"]);
});
