//! The in-process adapter: a double index, room → sockets and socket → rooms, under one
//! lock so the two halves can never disagree.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use super::{Adapter, BroadcastOptions, Room};
use crate::sid::{Sid, SidMap, SidSet};

/// Room membership kept in memory.
#[derive(Debug, Default)]
pub struct MemoryAdapter {
    /// A std lock: every operation is a few hash-map steps and never awaits. Readers
    /// (broadcasts) far outnumber writers (joins and leaves), hence a read-write lock.
    index: RwLock<Index>,
}

#[derive(Debug, Default)]
struct Index {
    rooms: HashMap<Room, SidSet>,
    sids: SidMap<HashSet<Room>>,
}

impl MemoryAdapter {
    /// An empty index.
    pub fn new() -> MemoryAdapter {
        MemoryAdapter::default()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Index> {
        self.index.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, Index> {
        self.index.write().unwrap_or_else(|e| e.into_inner())
    }
}

impl Adapter for MemoryAdapter {
    fn join(&self, sid: Sid, room: Room) -> bool {
        let mut index = self.write();
        let added = index.sids.entry(sid).or_default().insert(room.clone());
        if added {
            index.rooms.entry(room).or_default().insert(sid);
        }
        added
    }

    fn leave(&self, sid: Sid, room: &str) -> bool {
        let mut index = self.write();
        let Some(rooms) = index.sids.get_mut(&sid) else { return false };
        if !rooms.remove(room) {
            return false;
        }
        if rooms.is_empty() {
            index.sids.remove(&sid);
        }
        if let Some(members) = index.rooms.get_mut(room) {
            members.remove(&sid);
            if members.is_empty() {
                index.rooms.remove(room);
            }
        }
        true
    }

    fn leave_all(&self, sid: Sid) {
        let mut index = self.write();
        let Some(rooms) = index.sids.remove(&sid) else { return };
        for room in rooms {
            if let Some(members) = index.rooms.get_mut(&room) {
                members.remove(&sid);
                if members.is_empty() {
                    index.rooms.remove(&room);
                }
            }
        }
    }

    fn rooms_of(&self, sid: Sid) -> Vec<Room> {
        self.read().sids.get(&sid).map(|rooms| rooms.iter().cloned().collect()).unwrap_or_default()
    }

    fn sockets_in(&self, room: &str) -> Vec<Sid> {
        self.read().rooms.get(room).map(|members| members.iter().copied().collect()).unwrap_or_default()
    }

    fn recipients(&self, options: &BroadcastOptions) -> Vec<Sid> {
        let index = self.read();
        // Resolve the excluded rooms once, not per candidate.
        let except: Vec<&SidSet> = options.except.iter().filter_map(|room| index.rooms.get(room)).collect();
        let excluded = |sid: &Sid| options.except_sid == Some(*sid) || except.iter().any(|members| members.contains(sid));
        match options.rooms.as_slice() {
            [] => index.sids.keys().filter(|sid| !excluded(sid)).copied().collect(),
            [room] => index
                .rooms
                .get(room)
                .map(|members| members.iter().filter(|sid| !excluded(sid)).copied().collect())
                .unwrap_or_default(),
            rooms => {
                let targets: Vec<&SidSet> = rooms.iter().filter_map(|room| index.rooms.get(room)).collect();
                let mut seen = SidSet::with_capacity_and_hasher(targets.iter().map(|m| m.len()).sum(), Default::default());
                targets.into_iter().flatten().filter(|sid| !excluded(sid) && seen.insert(**sid)).copied().collect()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room(name: &str) -> Room {
        Room::from(name)
    }

    fn sorted(mut v: Vec<Sid>) -> Vec<Sid> {
        v.sort();
        v
    }

    #[test]
    fn union_of_rooms_reaches_each_socket_once() {
        let adapter = MemoryAdapter::new();
        let [a, b, c] = [Sid::random(), Sid::random(), Sid::random()];
        for sid in [a, b, c] {
            adapter.join(sid, room(sid.as_str()));
        }
        adapter.join(a, room("red"));
        adapter.join(a, room("blue"));
        adapter.join(b, room("blue"));
        let opts = BroadcastOptions { rooms: vec![room("red"), room("blue")], ..Default::default() };
        assert_eq!(sorted(adapter.recipients(&opts)), sorted(vec![a, b]));
        let opts = BroadcastOptions { rooms: vec![room("red"), room("blue")], except: vec![room("red")], except_sid: None };
        assert_eq!(adapter.recipients(&opts), vec![b]);
        let all = BroadcastOptions { except_sid: Some(c), ..Default::default() };
        assert_eq!(sorted(adapter.recipients(&all)), sorted(vec![a, b]));
        let own_room = BroadcastOptions { rooms: vec![room(c.as_str())], ..Default::default() };
        assert_eq!(adapter.recipients(&own_room), vec![c]);
    }

    #[test]
    fn leave_all_empties_both_halves_of_the_index() {
        let adapter = MemoryAdapter::new();
        let a = Sid::random();
        assert!(adapter.join(a, room("x")));
        assert!(!adapter.join(a, room("x")));
        assert!(adapter.join(a, room("y")));
        assert!(adapter.leave(a, "x"));
        assert!(!adapter.leave(a, "x"));
        adapter.leave_all(a);
        assert!(adapter.rooms_of(a).is_empty());
        assert!(adapter.sockets_in("y").is_empty());
        let index = adapter.read();
        assert!(index.rooms.is_empty() && index.sids.is_empty());
    }
}
