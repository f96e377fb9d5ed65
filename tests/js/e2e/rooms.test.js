// Rooms: each socket's own room, join, publish to a union of rooms, except, leave.

import assert from "node:assert/strict";
import { afterEach, test } from "node:test";
import { TEST, closeAll, collect, connect, emitWithAck, expectNothing, once, startServer } from "./support.js";

afterEach(closeAll);

test("publishing to a socket's id reaches only that socket", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  const quiet = [expectNothing(a, "dm"), expectNothing(c, "dm")];
  const toB = once(b, "dm");
  assert.deepEqual(await emitWithAck(a, "publish", { to: b.id, event: "dm" }, "psst", 42), { ok: true });
  assert.deepEqual(await toB, ["psst", 42]);
  await Promise.all(quiet);
});

test("join answers with the sorted rooms, own room excluded; publish reaches the members", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  assert.deepEqual(await emitWithAck(b, "join", "lobby"), { ok: true, rooms: ["lobby"] });
  assert.deepEqual(await emitWithAck(b, "join", ["zoo", "attic"]), { ok: true, rooms: ["attic", "lobby", "zoo"] });
  assert.deepEqual(await emitWithAck(c, "join", "zoo"), { ok: true, rooms: ["zoo"] });

  const quiet = [expectNothing(a, "news"), expectNothing(c, "news")];
  const toB = once(b, "news");
  assert.deepEqual(await emitWithAck(a, "publish", { to: "lobby", event: "news" }, "in the lobby"), { ok: true });
  assert.deepEqual(await toB, ["in the lobby"]);
  await Promise.all(quiet);
});

test("publishing to several rooms reaches a member of both exactly once", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c] = await Promise.all([connect(url), connect(url), connect(url)]);
  await emitWithAck(b, "join", ["red", "blue"]);
  await emitWithAck(c, "join", "blue");

  const atB = collect(b, "news");
  const toB = once(b, "news");
  const toC = once(c, "news");
  assert.deepEqual(await emitWithAck(a, "publish", { to: ["red", "blue"], event: "news" }, "once"), { ok: true });
  assert.deepEqual(await toB, ["once"]);
  assert.deepEqual(await toC, ["once"]);
  await expectNothing(b, "news");
  assert.deepEqual(atB, [["once"]]);
});

test("except leaves out the members of the excepted rooms", TEST, async () => {
  const { url } = await startServer();
  const [a, b, c, d] = await Promise.all([connect(url), connect(url), connect(url), connect(url)]);
  await emitWithAck(b, "join", "team");
  await emitWithAck(c, "join", ["team", "muted"]);
  await emitWithAck(d, "join", ["team"]);

  const quiet = [expectNothing(c, "news"), expectNothing(d, "news")];
  const toB = once(b, "news");
  const reply = await emitWithAck(a, "publish", { to: "team", except: ["muted", d.id], event: "news" }, "not for c or d");
  assert.deepEqual(reply, { ok: true });
  assert.deepEqual(await toB, ["not for c or d"]);
  await Promise.all(quiet);
});

test("after leaving a room a socket no longer receives what is published to it", TEST, async () => {
  const { url } = await startServer();
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  await emitWithAck(b, "join", ["lobby", "kitchen"]);
  assert.deepEqual(await emitWithAck(b, "leave", "lobby"), { ok: true, rooms: ["kitchen"] });

  const quiet = expectNothing(b, "news");
  assert.deepEqual(await emitWithAck(a, "publish", { to: "lobby", event: "news" }, "gone"), { ok: true });
  await quiet;

  const toB = once(b, "news");
  await emitWithAck(a, "publish", { to: "kitchen", event: "news" }, "still here");
  assert.deepEqual(await toB, ["still here"]);
});

test("a socket cannot leave its own room", TEST, async () => {
  const { url } = await startServer();
  const [a, b] = await Promise.all([connect(url), connect(url)]);
  const reply = await emitWithAck(b, "leave", [b.id]);
  assert.equal(reply.ok, false);
  assert.equal(typeof reply.error, "string");

  const toB = once(b, "dm");
  await emitWithAck(a, "publish", { to: b.id, event: "dm" }, "still reachable");
  assert.deepEqual(await toB, ["still reachable"]);
});
