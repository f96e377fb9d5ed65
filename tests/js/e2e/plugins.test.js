// The three middleware plugins (plugins/auth, plugins/profanity, plugins/presence), alone
// and chained on /chat, seen by the official socket.io-client.

import assert from "node:assert/strict";
import { readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, test } from "node:test";

import { REPO, TEST, closeAll, collect, connect, emitWithAck, expectNothing, once, startServer } from "./support.js";
import { SECRET, sign, tokenFor } from "./tokens.js";

afterEach(closeAll);

const wasm = (name) => JSON.stringify(path.join(REPO, "plugins/dist", `${name}.wasm`));

function config({ deny = ["frak"], profanityMode = "mask" } = {}) {
  return `
[plugins.auth]
path = ${wasm("auth")}
[plugins.auth.config]
secret = "${SECRET}"
issuer = "e2e"
audience = "chat"
leeway_s = 0
default_rooms = ["lobby", "room-*"]

[plugins.profanity]
path = ${wasm("profanity")}
[plugins.profanity.config]
mode = "${profanityMode}"
deny = ${JSON.stringify(deny)}

[plugins.presence]
path = ${wasm("presence")}

[[namespace]]
name = "/chat"
relay = "rooms"
plugins = ["auth", "profanity", "presence"]
`;
}

async function member(url, id, room, name = id) {
  const socket = await connect(`${url}/chat`, { auth: { token: tokenFor(id, name) } });
  if (room) assert.equal((await emitWithAck(socket, "join", room)).ok, true);
  return socket;
}

async function refusal(url, auth) {
  const error = await connect(`${url}/chat`, { auth }).then(
    () => assert.fail("should have been refused"),
    (err) => err,
  );
  return { message: error.message, data: error.data };
}

test("auth refuses bad tokens with a reason the client can act on", TEST, async () => {
  const { url } = await startServer(config());
  const now = Math.floor(Date.now() / 1000);
  const claims = { sub: "u1", iss: "e2e", aud: "chat", exp: now + 600 };
  const cases = [
    [{}, { code: "missing", retry: "login" }],
    [{ token: "not-a-jwt" }, { code: "malformed", retry: "login" }],
    [{ token: sign(claims, "another-secret-xxxxx") }, { code: "bad_signature", retry: "login" }],
    [{ token: sign({ ...claims, exp: now - 60 }) }, { code: "expired", retry: "login" }],
    [{ token: sign({ ...claims, nbf: now + 600 }) }, { code: "not_yet_valid", retry: "later" }],
    [{ token: sign({ ...claims, aud: "admin" }) }, { code: "wrong_audience", retry: "login" }],
    [{ token: sign({ ...claims, iss: "evil" }) }, { code: "wrong_issuer", retry: "login" }],
  ];
  for (const [auth, data] of cases) {
    assert.deepEqual((await refusal(url, auth)).data, data, JSON.stringify(auth));
  }
  const ok = await member(url, "u1");
  assert.ok(ok.connected);
});

test("auth enforces room patterns from the token on join and publish", TEST, async () => {
  const { url } = await startServer(config());
  const ada = await member(url, "ada");
  assert.deepEqual(await emitWithAck(ada, "join", "admin"), {
    ok: false,
    error: 'room "admin" is not allowed for this user',
    data: { code: "forbidden_room", room: "admin" },
  });
  assert.equal((await emitWithAck(ada, "join", ["lobby", "room-7"])).ok, true);
  const refused = await emitWithAck(ada, "publish", { to: ["room-7", "ops"], event: "chat" }, "x");
  assert.equal(refused.data.code, "forbidden_room");
  // A token may carry its own room list.
  const ops = await connect(`${url}/chat`, { auth: { token: tokenFor("op", "Op", { rooms: ["ops"] }) } });
  assert.equal((await emitWithAck(ops, "join", "ops")).ok, true);
  assert.equal((await emitWithAck(ops, "join", "lobby")).ok, false);
});

test("profanity masks what others read, disguises included, and leaves innocent words", TEST, async () => {
  const { url } = await startServer(config());
  const alice = await member(url, "alice", "room-1");
  const bob = await member(url, "bob", "room-1");
  const received = collect(bob, "chat");
  for (const text of ["what the fuck", "sh1t happens", "f u c k", "frak this", "Scunthorpe is a classic town, assassin"]) {
    assert.deepEqual(await emitWithAck(alice, "publish", { to: "room-1", event: "chat" }, { text }), { ok: true });
  }
  const deadline = Date.now() + 3_000;
  while (received.length < 5 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  const texts = received.map(([msg]) => msg.text);
  assert.equal(texts.length, 5);
  for (const masked of texts.slice(0, 4)) assert.ok(masked.includes("*"), `masked: ${masked}`);
  assert.ok(!texts[0].includes("fuck") && !texts[3].includes("frak"), texts.join(" | "));
  assert.equal(texts[4], "Scunthorpe is a classic town, assassin");
});

test("profanity in reject mode refuses the event and nobody gets it", TEST, async () => {
  const { url } = await startServer(config({ profanityMode: "reject" }));
  const alice = await member(url, "alice", "room-1");
  const bob = await member(url, "bob", "room-1");
  const nothing = expectNothing(bob, "chat");
  const reply = await emitWithAck(alice, "publish", { to: "room-1", event: "chat" }, "fuck off");
  assert.deepEqual(reply, { ok: false, error: "message contains language that is not allowed here", data: { code: "profanity" } });
  await nothing;
});

/** Resolves with the first collected argument list whose first argument passes `match`. */
async function seen(collected, match, timeoutMs = 3_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const hit = collected.find(([value]) => match(value));
    if (hit) return hit[0];
    if (Date.now() > deadline) assert.fail(`not seen within ${timeoutMs} ms: ${JSON.stringify(collected)}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("presence: one user on two devices, diffs on first arrival and last departure, list on request", TEST, async () => {
  const { url } = await startServer(config());
  const phone = await member(url, "ada", "room-1", "Ada");
  const laptop = await member(url, "ada", null, "Ada");
  const phoneDiffs = collect(phone, "presence:diff");
  const bob = await connect(`${url}/chat`, { auth: { token: tokenFor("bob", "Bob") } });
  const bobStates = collect(bob, "presence:state");
  const bobDiffs = collect(bob, "presence:diff");
  await emitWithAck(bob, "join", "room-1");
  assert.deepEqual(await seen(bobStates, (v) => v.room === "room-1"), {
    room: "room-1",
    users: [{ id: "ada", name: "Ada" }, { id: "bob", name: "Bob" }],
  });
  assert.deepEqual(await seen(phoneDiffs, (v) => v.room === "room-1"), {
    room: "room-1",
    joins: [{ id: "bob", name: "Bob" }],
    leaves: [],
  });

  // Ada's laptop joins and her phone leaves: she is still there, nobody is told.
  await emitWithAck(laptop, "join", "room-1");
  await emitWithAck(phone, "leave", "room-1");
  await new Promise((r) => setTimeout(r, 200));
  assert.deepEqual(bobDiffs.filter(([v]) => v.room === "room-1"), []);
  // Her last connection drops abruptly: Bob learns she left.
  laptop.io.engine.close();
  assert.deepEqual(await seen(bobDiffs, (v) => v.room === "room-1"), {
    room: "room-1",
    joins: [],
    leaves: [{ id: "ada", name: "Ada" }],
  });
  assert.deepEqual(await emitWithAck(bob, "presence:list", "room-1"), { room: "room-1", users: [{ id: "bob", name: "Bob" }] });
});

test("editing the word list in config.toml applies without dropping a connection", TEST, async () => {
  const { url, configFile } = await startServer(config({ deny: ["frak"] }));
  const alice = await member(url, "alice", "room-1");
  const bob = await member(url, "bob", "room-1");
  const before = { alice: alice.id, bob: bob.id };
  const say = async (text) => {
    const got = once(bob, "chat");
    await emitWithAck(alice, "publish", { to: "room-1", event: "chat" }, { text });
    return (await got)[0].text;
  };
  assert.equal(await say("zorp"), "zorp");
  await writeFile(configFile, (await readFile(configFile, "utf8")).replace('deny = ["frak"]', 'deny = ["zorp"]'));
  let text = "zorp";
  const deadline = Date.now() + 8_000;
  while (text === "zorp" && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    text = await say("zorp");
  }
  assert.notEqual(text, "zorp", "the new word list applies");
  assert.equal(await say("frak"), "frak", "the old list is gone");
  assert.deepEqual({ alice: alice.id, bob: bob.id }, before, "same sockets, still connected");
  assert.ok(alice.connected && bob.connected);
});

test("presence state survives a hot swap of the presence plugin", TEST, async () => {
  const { url, configFile } = await startServer(config());
  const ada = await member(url, "ada", "room-1", "Ada");
  const bob = await member(url, "bob", "room-1", "Bob");
  const everyone = { room: "room-1", users: [{ id: "ada", name: "Ada" }, { id: "bob", name: "Bob" }] };
  assert.deepEqual(await emitWithAck(bob, "presence:list", "room-1"), everyone);
  // A new config table for the plugin makes roomd swap in a fresh instance.
  const swapped = (await readFile(configFile, "utf8")).replace(`path = ${wasm("presence")}`, `path = ${wasm("presence")}\n[plugins.presence.config]\nmax_users = 1`);
  await writeFile(configFile, swapped);
  const deadline = Date.now() + 8_000;
  let state = everyone;
  while (!("count" in state) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    state = await emitWithAck(bob, "presence:list", "room-1");
  }
  assert.deepEqual(state, { room: "room-1", count: 2 }, "the new instance (max_users = 1) sees both users");
  assert.ok(ada.connected && bob.connected);
});
