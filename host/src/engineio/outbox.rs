//! A session's outbound queue: bounded, read by one transport at a time, and allocated
//! only while it holds something.
//!
//! Whoever writes to the client — a pending long-poll GET or the WebSocket task — takes
//! the [`ReadEnd`] and gives it back when done, so an overlapping poll is detected by
//! finding it taken. Everyone else pushes, which never waits; what a full queue means is
//! the session's decision ([`Session::send`](super::Session::send)).
//!
//! The items are a `VecDeque` under a std mutex, held for one push or pop and never across
//! an `.await`. It allocates nothing until something is queued and gives its memory back
//! after a burst, so an idle session costs a few dozen bytes here, not a channel's first
//! block.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use tokio::sync::Notify;

use super::packet::Frame;

/// What goes into a session's queue: one frame, or frames that must reach the client
/// back to back (a Socket.IO packet and its binary attachments). Either way only
/// reference counts are copied, so one encoded broadcast serves every recipient.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// A single frame.
    One(Frame),
    /// Frames that must not be interleaved with anything else.
    Many(Arc<[Frame]>),
}

impl Outgoing {
    /// The frames, in order.
    pub fn frames(&self) -> &[Frame] {
        match self {
            Outgoing::One(frame) => std::slice::from_ref(frame),
            Outgoing::Many(frames) => frames,
        }
    }

    /// The frames, in order, by value: a lone frame is moved, shared ones cost a
    /// reference count each.
    pub(crate) fn into_frames(self) -> impl Iterator<Item = Frame> {
        let (one, many) = match self {
            Outgoing::One(frame) => (Some(frame), None),
            Outgoing::Many(frames) => (None, Some(frames)),
        };
        one.into_iter().chain(many.into_iter().flat_map(|frames| (0..frames.len()).map(move |i| frames[i].clone())))
    }
}

/// Slots an emptied queue keeps. A connection that is sent to now and then reuses them;
/// one that took a burst gives the rest back.
const KEPT_CAPACITY: usize = 8;

/// The queue; see the module docs.
#[derive(Debug)]
pub(crate) struct Outbox {
    /// A std mutex, locked for one push or pop at a time.
    state: Mutex<State>,
    /// Most items held at once.
    limit: usize,
    /// Signalled when an item lands in an empty queue: the reader may be asleep.
    queued: Notify,
    /// Signalled when the read end is given back (an upgrade waits for the last poll to
    /// hand it over).
    returned: Notify,
}

#[derive(Debug)]
struct State {
    items: VecDeque<Outgoing>,
    /// Whether a transport holds the [`ReadEnd`].
    read_end_taken: bool,
}

/// The right to read the queue; one exists per queue at a time.
#[must_use = "the read end must be given back with `give_back`"]
#[derive(Debug)]
pub(crate) struct ReadEnd {
    _private: (),
}

/// The queue already holds its limit; nothing was queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Full;

impl Outbox {
    /// An empty queue that holds at most `limit` items.
    pub(crate) fn new(limit: usize) -> Outbox {
        Outbox {
            state: Mutex::new(State { items: VecDeque::new(), read_end_taken: false }),
            limit: limit.max(1),
            queued: Notify::new(),
            returned: Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Queues `out`, without waiting.
    pub(crate) fn push(&self, out: Outgoing) -> Result<(), Full> {
        let mut state = self.lock();
        if state.items.len() >= self.limit {
            return Err(Full);
        }
        let was_empty = state.items.is_empty();
        state.items.push_back(out);
        drop(state);
        // A reader only sleeps on an empty queue, so only the first item needs to wake it.
        if was_empty {
            self.queued.notify_one();
        }
        Ok(())
    }

    /// Takes the read end, unless a transport already holds it.
    pub(crate) fn take_read_end(&self) -> Option<ReadEnd> {
        let mut state = self.lock();
        (!std::mem::replace(&mut state.read_end_taken, true)).then_some(ReadEnd { _private: () })
    }

    /// Gives the read end back.
    pub(crate) fn give_back(&self, rx: ReadEnd) {
        let ReadEnd { _private: () } = rx;
        self.lock().read_end_taken = false;
        self.returned.notify_one();
    }

    /// Waits until no transport holds the read end, then takes it.
    pub(crate) async fn take_read_end_when_free(&self) -> ReadEnd {
        loop {
            let returned = self.returned.notified();
            if let Some(rx) = self.take_read_end() {
                return rx;
            }
            returned.await;
        }
    }

    /// Whether a transport holds the read end.
    pub(crate) fn read_end_taken(&self) -> bool {
        self.lock().read_end_taken
    }

    /// The next item, waiting for one.
    pub(crate) async fn recv(&self, rx: &mut ReadEnd) -> Outgoing {
        loop {
            let queued = self.queued.notified();
            if let Some(out) = self.try_recv(rx) {
                return out;
            }
            queued.await;
        }
    }

    /// The next item, if there is one. Draining the queue after a burst gives its memory
    /// back.
    pub(crate) fn try_recv(&self, _rx: &mut ReadEnd) -> Option<Outgoing> {
        let mut state = self.lock();
        let out = state.items.pop_front();
        if state.items.is_empty() && state.items.capacity() > KEPT_CAPACITY {
            state.items = VecDeque::new();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(s: &'static str) -> Outgoing {
        Outgoing::One(Frame::Text(s.into()))
    }

    fn capacity(outbox: &Outbox) -> usize {
        outbox.lock().items.capacity()
    }

    #[test]
    fn holds_memory_only_while_it_needs_it() {
        let outbox = Outbox::new(1024);
        assert_eq!(capacity(&outbox), 0, "a new queue allocates nothing");
        let mut rx = outbox.take_read_end().expect("free");
        for _ in 0..500 {
            outbox.push(text("2")).expect("room in the queue");
        }
        assert!(capacity(&outbox) >= 500);
        let mut read = 0;
        while outbox.try_recv(&mut rx).is_some() {
            read += 1;
        }
        assert_eq!(read, 500, "everything queued is read");
        assert_eq!(capacity(&outbox), 0, "a drained burst gives its memory back");
        outbox.push(text("2")).unwrap();
        outbox.try_recv(&mut rx).unwrap();
        assert!(capacity(&outbox) <= KEPT_CAPACITY, "small use keeps a small buffer");
        outbox.give_back(rx);
    }

    #[test]
    fn frames_come_out_in_order_by_value() {
        let one: Vec<Frame> = text("a").into_frames().collect();
        assert_eq!(one, [Frame::Text("a".into())]);
        let many = Outgoing::Many(Arc::from([Frame::Text("b".into()), Frame::Binary(bytes::Bytes::from_static(b"\x01"))]));
        assert_eq!(many.clone().into_frames().collect::<Vec<_>>(), many.frames());
    }

    #[test]
    fn refuses_past_its_limit() {
        let outbox = Outbox::new(2);
        outbox.push(text("a")).unwrap();
        outbox.push(text("b")).unwrap();
        assert_eq!(outbox.push(text("c")), Err(Full));
    }

    #[test]
    fn one_read_end_at_a_time() {
        let outbox = Outbox::new(4);
        let rx = outbox.take_read_end().expect("free");
        assert!(outbox.take_read_end().is_none(), "the read end is taken");
        assert!(outbox.read_end_taken());
        outbox.give_back(rx);
        assert!(!outbox.read_end_taken());
        let rx = outbox.take_read_end().expect("given back");
        outbox.give_back(rx);
    }

    #[tokio::test]
    async fn a_waiting_reader_wakes_for_the_first_item_and_reads_in_order() {
        let outbox = Arc::new(Outbox::new(16));
        let reader = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let mut rx = outbox.take_read_end().expect("free");
                let mut got = Vec::new();
                while got.len() < 3 {
                    if let Frame::Text(text) = &outbox.recv(&mut rx).await.frames()[0] {
                        got.push(text.to_string());
                    }
                }
                outbox.give_back(rx);
                got
            })
        };
        tokio::task::yield_now().await;
        for s in ["a", "b", "c"] {
            outbox.push(text(s)).unwrap();
        }
        assert_eq!(reader.await.unwrap(), ["a", "b", "c"]);
    }

    #[tokio::test]
    async fn an_upgrade_waits_for_the_read_end() {
        let outbox = Arc::new(Outbox::new(4));
        let poll = outbox.take_read_end().expect("free");
        let upgrade = {
            let outbox = outbox.clone();
            tokio::spawn(async move {
                let rx = outbox.take_read_end_when_free().await;
                outbox.give_back(rx);
            })
        };
        tokio::task::yield_now().await;
        assert!(!upgrade.is_finished(), "waits while the poll holds it");
        outbox.give_back(poll);
        upgrade.await.unwrap();
    }
}
