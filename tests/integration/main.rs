//! Integration tests: a real server on 127.0.0.1:0, raw protocol clients.

#![allow(missing_docs)]

mod support;

mod bad_input;
mod engineio;
mod hot_reload;
mod limits;
mod plugins;
mod rooms;
mod socketio;
