// The benchmark's behaviour on Node's socket.io: `join` a room (acknowledged) and
// `publish` {to, event} ...args to a room, the sender left out — what roomd's relay does.
import { Server } from "socket.io";

const port = Number(process.argv[2] || 3100);
const io = new Server(port, { serveClient: false, pingInterval: 60_000, pingTimeout: 60_000, maxHttpBufferSize: 1e6 });

io.on("connection", (socket) => {
  socket.on("join", (room, ack) => {
    socket.join(room);
    if (typeof ack === "function") ack({ ok: true });
  });
  socket.on("publish", (envelope, ...args) => {
    const ack = typeof args.at(-1) === "function" ? args.pop() : null;
    socket.to(envelope.to).emit(envelope.event, ...args);
    if (ack) ack({ ok: true });
  });
});

console.log(`node socket.io listening on 127.0.0.1:${port}`);
