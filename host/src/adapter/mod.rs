//! Room membership and broadcast resolution, behind the [`Adapter`] trait.
//!
//! An adapter answers one question for a namespace: *which sockets does this broadcast
//! reach?* — the union of the target rooms (every socket once, however many of the rooms
//! it is in), or every socket when no room is named, minus the sockets in the `except`
//! rooms. It knows nothing of packets or transports: the namespace encodes a broadcast
//! once and queues the same bytes to every socket the adapter names.
//!
//! [`MemoryAdapter`] keeps the index in this process. A cluster adapter (Redis, wire
//! compatible with `@socket.io/redis-adapter`) implements the same trait and additionally
//! forwards each broadcast to the other nodes through [`Adapter::publish`].

mod memory;

use std::sync::Arc;

pub use memory::MemoryAdapter;

use crate::sid::Sid;

/// A room name. Shared, so that both halves of the index and every broadcast that names
/// the room point at one allocation.
pub type Room = Arc<str>;

/// Which sockets a broadcast reaches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BroadcastOptions {
    /// Target rooms; empty means every socket of the namespace.
    pub rooms: Vec<Room>,
    /// Sockets in any of these rooms are left out.
    pub except: Vec<Room>,
    /// This socket is left out (a socket's own broadcast does not return to it).
    pub except_sid: Option<Sid>,
}

/// Room membership for one namespace.
///
/// Every socket is in its own room, named by its id, from connect to disconnect.
/// Implementations must be cheap to call from synchronous code and must never block on
/// I/O while holding a lock: remote work is queued, not awaited.
pub trait Adapter: Send + Sync + 'static {
    /// Adds `sid` to `room`. Returns false if it was already there.
    fn join(&self, sid: Sid, room: Room) -> bool;

    /// Removes `sid` from `room`. Returns false if it was not there.
    fn leave(&self, sid: Sid, room: &str) -> bool;

    /// Removes `sid` from every room, its own included.
    fn leave_all(&self, sid: Sid);

    /// The rooms `sid` is in, its own included.
    fn rooms_of(&self, sid: Sid) -> Vec<Room>;

    /// The local sockets in `room`.
    fn sockets_in(&self, room: &str) -> Vec<Sid>;

    /// The local sockets a broadcast with `options` reaches, each once.
    fn recipients(&self, options: &BroadcastOptions) -> Vec<Sid>;

    /// Forwards a broadcast to the other nodes of a cluster. The memory adapter has none.
    fn publish(&self, _options: &BroadcastOptions, _event: &str, _payload: &crate::socketio::Payload) {}
}
