// The roomd demo chat. Two namespaces over one connection (one Manager):
//   /chat   — messages, rooms and per-room presence (plugins: auth → profanity → presence)
//   /online — who is connected at all (plugins: auth → presence)
// Messages are sent with roomd's `publish` to the current room; the profanity plugin
// masks what others receive.
"use strict";

const $ = (selector) => document.querySelector(selector);

const state = {
  me: null,
  chat: null,
  online: null,
  current: null,
  rooms: new Map(), // room → { users: Map(id → name), count: number|null, messages: [] }
  everyone: new Map(), // id → name, from /online
};

function showError(text) {
  const el = $("#error");
  el.textContent = text;
  el.hidden = false;
  clearTimeout(showError.timer);
  showError.timer = setTimeout(() => (el.hidden = true), 5000);
}

function room(name) {
  if (!state.rooms.has(name)) state.rooms.set(name, { users: new Map(), count: null, messages: [] });
  return state.rooms.get(name);
}

function applyPresence(target, { users, joins, leaves, count }) {
  if (users) {
    target.clear();
    for (const u of users) target.set(u.id, u.name);
  }
  for (const u of joins || []) target.set(u.id, u.name);
  for (const u of leaves || []) target.delete(u.id);
  return count ?? null;
}

function render() {
  const list = $("#rooms");
  list.replaceChildren(
    ...[...state.rooms.keys()].sort().map((name) => {
      const li = document.createElement("li");
      li.textContent = name;
      li.dataset.room = name;
      li.className = name === state.current ? "active" : "";
      li.onclick = () => select(name);
      return li;
    }),
  );
  const online = $("#online");
  online.replaceChildren(
    ...[...state.everyone.values()].sort().map((name) => {
      const li = document.createElement("li");
      li.textContent = name;
      return li;
    }),
  );
  $("#online-count").textContent = `(${state.everyone.size})`;

  const current = state.current && state.rooms.get(state.current);
  $("#current").textContent = state.current ? `# ${state.current}` : "No room";
  $("#present").textContent = !current
    ? ""
    : current.count !== null
      ? `${current.count} people here`
      : `Here: ${[...current.users.values()].sort().join(", ")}`;
  const messages = $("#messages");
  messages.replaceChildren(
    ...(current ? current.messages : []).map((m) => {
      const li = document.createElement("li");
      li.className = m.system ? "system" : m.mine ? "mine" : "";
      if (!m.system) {
        const from = document.createElement("span");
        from.className = "from";
        from.textContent = m.from;
        li.append(from);
      }
      li.append(document.createTextNode(m.text));
      return li;
    }),
  );
  messages.scrollTop = messages.scrollHeight;
}

function select(name) {
  state.current = name;
  render();
}

async function join(name) {
  const res = await state.chat.timeout(5000).emitWithAck("join", name);
  if (!res.ok) return showError(res.error);
  room(name);
  select(name);
}

async function leave(name) {
  const res = await state.chat.timeout(5000).emitWithAck("leave", name);
  if (!res.ok) return showError(res.error);
  state.rooms.delete(name);
  select([...state.rooms.keys()][0] || null);
}

async function send(text) {
  const to = state.current;
  const res = await state.chat.timeout(5000).emitWithAck("publish", { to, event: "chat" }, { room: to, from: state.me, text });
  if (!res.ok) return showError(res.error);
  room(to).messages.push({ from: state.me, text, mine: true });
  render();
}

function connect(token) {
  const manager = new io.Manager(location.origin);
  const chat = manager.socket("/chat", { auth: { token } });
  const online = manager.socket("/online", { auth: { token } });
  state.chat = chat;
  state.online = online;

  for (const socket of [chat, online]) {
    socket.on("connect_error", (err) => showError(`${err.message}${err.data ? " " + JSON.stringify(err.data) : ""}`));
  }
  chat.on("connect", async () => {
    $("#login").hidden = true;
    $("#app").hidden = false;
    for (const name of state.rooms.size ? [...state.rooms.keys()] : ["lobby"]) await join(name);
  });
  chat.on("chat", (msg) => {
    room(msg.room).messages.push({ from: msg.from, text: msg.text });
    render();
  });
  chat.on("presence:state", (update) => {
    if (update.room) room(update.room).count = applyPresence(room(update.room).users, update);
    render();
  });
  chat.on("presence:diff", (update) => {
    if (!update.room || !state.rooms.has(update.room)) return;
    const r = room(update.room);
    r.count = applyPresence(r.users, update);
    for (const u of update.joins || []) r.messages.push({ system: true, text: `${u.name} joined` });
    for (const u of update.leaves || []) r.messages.push({ system: true, text: `${u.name} left` });
    render();
  });
  for (const event of ["presence:state", "presence:diff"]) {
    online.on(event, (update) => {
      if (update.room === null) applyPresence(state.everyone, update);
      render();
    });
  }
}

$("#login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const name = $("#name").value.trim();
  const res = await fetch(`/demo/token?name=${encodeURIComponent(name)}`);
  const body = await res.json();
  if (!res.ok) return showError(body.error || "login failed");
  state.me = name;
  $("#whoami").textContent = `Signed in as ${name}`;
  connect(body.token);
});

$("#join").addEventListener("submit", (event) => {
  event.preventDefault();
  const name = $("#room").value.trim();
  if (name) join(name);
  $("#room").value = "";
});

$("#leave").addEventListener("click", () => state.current && leave(state.current));

$("#composer").addEventListener("submit", (event) => {
  event.preventDefault();
  const text = $("#text").value.trim();
  if (text && state.current) send(text);
  $("#text").value = "";
});
