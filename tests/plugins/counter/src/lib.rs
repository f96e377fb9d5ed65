//! Counts the events it sees and reports the count and its version; the count moves to
//! the next version through snapshot/restore. Version 1 (see `counter-v2` for 2).

#[path = "count.rs"]
mod count;

count::counter!(1);
