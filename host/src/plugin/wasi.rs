//! WASI for plugins: wasmtime-wasi's default, deny-by-default context, made safe to call
//! from inside the async runtime.
//!
//! wasmtime-wasi's synchronous bindings run every *blocking* operation by entering the
//! Tokio runtime (`block_on`), which panics on a thread that is already driving it — and
//! plugin calls run on exactly such threads. So the few blocking operations a plugin can
//! reach are replaced here: writing to stdout/stderr is routed to roomd's log (at debug
//! level, tagged with the plugin), and the rest (blocking reads, `poll`, opening
//! sockets) trap with a clear message instead of taking the host down. Nothing a plugin
//! can do blocks a connection's task beyond its epoch deadline.

use wasmtime::component::{Linker, Resource, ResourceType};
use wasmtime_wasi::p2::bindings::sync::io::streams::StreamError;
use wasmtime_wasi_io::streams::{DynInputStream, DynOutputStream};

use super::instance::HostState;

/// The version of the WASI 0.2 interfaces wasmtime-wasi defines (guests importing any
/// earlier 0.2.x link against them).
const WASI: &str = "0.2.12";

/// Blocking operations that trap instead: (interface, function).
const TRAPPING: [(&str, &str); 9] = [
    ("wasi:io/streams", "[method]input-stream.blocking-read"),
    ("wasi:io/streams", "[method]input-stream.blocking-skip"),
    ("wasi:io/streams", "[method]output-stream.blocking-write-zeroes-and-flush"),
    ("wasi:io/streams", "[method]output-stream.blocking-splice"),
    ("wasi:io/poll", "poll"),
    ("wasi:io/poll", "[method]pollable.block"),
    ("wasi:io/poll", "[method]pollable.ready"),
    ("wasi:sockets/tcp-create-socket", "create-tcp-socket"),
    ("wasi:sockets/udp-create-socket", "create-udp-socket"),
];

/// Adds WASI to `linker`, with the blocking operations replaced.
pub(super) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_sync(linker)?;
    linker.allow_shadowing(true);

    let mut streams = linker.instance(&format!("wasi:io/streams@{WASI}"))?;
    streams.resource("output-stream", ResourceType::host::<DynOutputStream>(), |mut store, rep| {
        store.data_mut().table().delete(Resource::<DynOutputStream>::new_own(rep))?;
        Ok(())
    })?;
    streams.resource("input-stream", ResourceType::host::<DynInputStream>(), |mut store, rep| {
        store.data_mut().table().delete(Resource::<DynInputStream>::new_own(rep))?;
        Ok(())
    })?;
    streams.func_wrap(
        "[method]output-stream.blocking-write-and-flush",
        |store, (_stream, bytes): (Resource<DynOutputStream>, Vec<u8>)| {
            let text = String::from_utf8_lossy(&bytes);
            tracing::debug!(plugin = %store.data().plugin, output = %text.trim_end(), "plugin output");
            Ok((Ok::<(), StreamError>(()),))
        },
    )?;
    streams.func_wrap("[method]output-stream.blocking-flush", |_store, (_stream,): (Resource<DynOutputStream>,)| {
        Ok((Ok::<(), StreamError>(()),))
    })?;

    for (interface, function) in TRAPPING {
        let qualified = format!("{interface}@{WASI}#{function}");
        linker.instance(&format!("{interface}@{WASI}"))?.func_new(function, move |_, _, _, _| {
            wasmtime::bail!("{qualified} would block the server; plugins may not use it")
        })?;
    }
    linker.allow_shadowing(false);
    Ok(())
}
