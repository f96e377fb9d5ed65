//! Version 2 of the counter (see `counter`).

#[path = "../../counter/src/count.rs"]
mod count;

count::counter!(2);
