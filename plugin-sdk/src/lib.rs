//! Write roomd middleware plugins in Rust.
//!
//! A plugin is a type that implements [`Plugin`] — every hook has a default, so a plugin
//! writes only the hooks it needs — and one line that exports it:
//!
//! ```ignore
//! use roomd_plugin_sdk::{EventVerdict, Event, Plugin, Socket, export_plugin};
//!
//! /// Refuses events whose name is on a configured list.
//! struct Blocklist { blocked: Vec<String> }
//!
//! impl Plugin for Blocklist {
//!     fn init(config: &serde_json::Value) -> Result<Self, String> {
//!         let blocked = serde_json::from_value(config["blocked"].clone()).map_err(|e| e.to_string())?;
//!         Ok(Blocklist { blocked })
//!     }
//!
//!     fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
//!         if self.blocked.contains(&event.name) {
//!             return EventVerdict::reject(format!("{} is not allowed here", event.name));
//!         }
//!         EventVerdict::Allow
//!     }
//! }
//!
//! export_plugin!(Blocklist);
//! ```
//!
//! A plugin that needs only some hooks or events says so in [`Plugin::interests`];
//! roomd then never calls it for the rest, which is what keeps a chain cheap on the
//! messages it does not care about.
//!
//! Build it with `cargo build --release --target wasm32-wasip2` and point a
//! `[plugins.NAME]` table of roomd's `config.toml` at the `.wasm`.
//!
//! The contract itself is `wit/roomd.wit`; the bindings generated from it are private to
//! this crate. Host calls go through [`host`]. Compiled for any target other than wasm,
//! [`host`] talks to an in-memory stand-in ([`testing`]), so plugin logic unit-tests with
//! a plain `cargo test`.

// Lets the generated bindings name this crate by its public path from inside it too.
extern crate self as roomd_plugin_sdk;

mod call;
mod host_impl;
mod verdicts;

pub mod host;
#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

#[doc(hidden)]
// Generated: the argument counts follow the WIT records, flattened.
#[allow(clippy::too_many_arguments)]
pub mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "plugin",
        pub_export_macro: true,
        export_macro_name: "__export_world",
        default_bindings_module: "roomd_plugin_sdk::bindings",
        runtime_path: "roomd_plugin_sdk::__wit_bindgen::rt",
        additional_derives: [PartialEq, Eq],
    });
}

#[doc(hidden)]
pub use wit_bindgen as __wit_bindgen;

pub use bindings::roomd::plugin::host::Target;
pub use bindings::roomd::plugin::types::{
    ConnectVerdict, EventFilter, Handshake, Hooks, Interests, Level, Payload, Rejection,
};
pub use call::{Event, EventVerdict, Socket};

/// A roomd plugin: one value of this type lives in each instance (one instance per
/// namespace the plugin is attached to). Hooks are called one at a time.
pub trait Plugin: Sized + 'static {
    /// Builds the plugin from its config table (`[plugins.NAME.config]`, as JSON; an
    /// empty object when there is none). An error keeps the plugin from loading.
    fn init(config: &serde_json::Value) -> Result<Self, String>;

    /// The calls this plugin wants, asked once after [`init`](Self::init). roomd skips the
    /// others entirely, so a plugin that looks at two events costs nothing on the rest.
    /// Default: every hook and every event.
    fn interests(&self) -> Interests {
        Interests::everything()
    }

    /// A client asks to join the namespace. Default: admit.
    fn on_connect(&mut self, _handshake: &Handshake) -> ConnectVerdict {
        ConnectVerdict::Allow(None)
    }

    /// A socket has joined the namespace.
    fn on_connected(&mut self, _socket: &Socket) {}

    /// A client emitted an event (room requests included). Default: pass it on.
    ///
    /// Events of one socket that arrived together reach the plugin in one call from roomd
    /// (up to 64; a `join` or `leave` ends a call's events) and come here one by one, in
    /// order; what the plugin asks of [`host`] meanwhile (`join`, `leave`, `disconnect`,
    /// `skip_events`) takes effect after the last of them, and a [`host::disconnect`] of
    /// this socket then drops the call's events that have not gone on. After an
    /// [`EventVerdict::Disconnect`] the rest are not shown.
    fn on_event(&mut self, _socket: &Socket, _event: &Event) -> EventVerdict {
        EventVerdict::Allow
    }

    /// A socket entered a room.
    fn on_room_joined(&mut self, _socket: &Socket, _room: &str) {}

    /// A socket left a room (not called at disconnect).
    fn on_room_left(&mut self, _socket: &Socket, _room: &str) {}

    /// A socket is leaving the namespace; its rooms are still joined.
    fn on_disconnect(&mut self, _socket: &Socket, _reason: &str) {}

    /// State to hand to the next version during a hot swap. Default: none.
    fn snapshot(&mut self) -> Vec<u8> {
        Vec::new()
    }

    /// Takes over the previous version's [`snapshot`](Self::snapshot), after `init`.
    fn restore(&mut self, _state: &[u8]) -> Result<(), String> {
        Ok(())
    }
}

/// Exports a [`Plugin`] type as the plugin of this crate. Use it once, at the crate root.
///
/// The crate must be a `cdylib` built for `wasm32-wasip2`; on other targets the macro
/// exports nothing, so the plugin's logic still compiles and unit-tests natively.
#[macro_export]
macro_rules! export_plugin {
    ($plugin:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct RoomdExport;

            impl $crate::bindings::Guest for RoomdExport {
                fn init(config: String) -> Result<$crate::Interests, String> {
                    $crate::__runtime::init::<$plugin>(&config)
                }
                fn on_connect(handshake: $crate::Handshake) -> $crate::ConnectVerdict {
                    $crate::__runtime::with::<$plugin, _>(|p| p.on_connect(&handshake))
                }
                fn on_connected(socket: &$crate::__runtime::LentSocket) {
                    $crate::__runtime::about::<$plugin, _>(socket, |p, s| p.on_connected(s))
                }
                fn on_event(socket: &$crate::__runtime::LentSocket, event: $crate::__runtime::WireEvent) -> $crate::__runtime::WireVerdict {
                    $crate::__runtime::on_event::<$plugin>(socket, event)
                }
                fn on_events(
                    socket: &$crate::__runtime::LentSocket,
                    events: $crate::__runtime::WireBurst,
                ) -> Vec<$crate::__runtime::WireVerdict> {
                    $crate::__runtime::on_events::<$plugin>(socket, events)
                }
                fn on_room_joined(socket: &$crate::__runtime::LentSocket, room: String) {
                    $crate::__runtime::about::<$plugin, _>(socket, |p, s| p.on_room_joined(s, &room))
                }
                fn on_room_left(socket: &$crate::__runtime::LentSocket, room: String) {
                    $crate::__runtime::about::<$plugin, _>(socket, |p, s| p.on_room_left(s, &room))
                }
                fn on_disconnect(socket: &$crate::__runtime::LentSocket, reason: String) {
                    $crate::__runtime::about::<$plugin, _>(socket, |p, s| p.on_disconnect(s, &reason))
                }
                fn snapshot() -> Vec<u8> {
                    $crate::__runtime::with::<$plugin, _>(|p| p.snapshot())
                }
                fn restore(state: Vec<u8>) -> Result<(), String> {
                    $crate::__runtime::with::<$plugin, _>(|p| p.restore(&state))
                }
            }

            $crate::bindings::__export_world!(RoomdExport);
        };
    };
}

/// The instance's plugin value, for the exported functions. Not part of the API.
#[doc(hidden)]
pub mod __runtime {
    use std::any::Any;
    use std::cell::RefCell;

    use crate::bindings::roomd::plugin::types as wit;
    use crate::{Event, EventVerdict, Plugin, Socket};

    /// The socket handle roomd lends a hook.
    pub type LentSocket = wit::Socket;
    /// An event as it crosses from roomd.
    pub type WireEvent = wit::Event;
    /// Several events of one socket as they cross from roomd.
    pub type WireBurst = wit::Burst;
    /// An event verdict as it crosses to roomd.
    pub type WireVerdict = wit::EventVerdict;

    thread_local! {
        static STATE: RefCell<Option<Box<dyn Any>>> = const { RefCell::new(None) };
    }

    /// Parses the config and builds the plugin value.
    pub fn init<P: Plugin>(config: &str) -> Result<crate::Interests, String> {
        let config: serde_json::Value =
            serde_json::from_str(config).map_err(|e| format!("plugin config is not JSON: {e}"))?;
        // A panic's message goes to roomd's log, not to stderr; the panic then traps and
        // roomd applies the plugin's failure policy.
        #[cfg(target_arch = "wasm32")]
        std::panic::set_hook(Box::new(|info| crate::host::log(crate::Level::Error, &info.to_string())));
        let plugin = P::init(&config)?;
        let interests = plugin.interests();
        STATE.with(|state| *state.borrow_mut() = Some(Box::new(plugin)));
        Ok(interests)
    }

    /// Runs `f` on the plugin value. roomd calls `init` before any hook; a hook before it
    /// is a host bug and traps, which roomd reports as a plugin failure.
    pub fn with<P: Plugin, R>(f: impl FnOnce(&mut P) -> R) -> R {
        STATE.with(|state| {
            let mut state = state.borrow_mut();
            let plugin = state
                .as_mut()
                .and_then(|boxed| boxed.downcast_mut::<P>())
                .expect("roomd calls init before any hook");
            f(plugin)
        })
    }

    /// Runs a hook about the lent `socket`.
    pub fn about<P: Plugin, R>(socket: &LentSocket, f: impl FnOnce(&mut P, &Socket<'_>) -> R) -> R {
        let socket = Socket::lent(socket);
        with(|plugin| f(plugin, &socket))
    }

    /// Runs `on_event`, converting the event and the verdict.
    pub fn on_event<P: Plugin>(socket: &LentSocket, event: WireEvent) -> WireVerdict {
        let event = Event::from_wit(event);
        about::<P, _>(socket, |plugin, socket| plugin.on_event(socket, &event)).into_wit()
    }

    /// Runs `on_event` for each event of a burst, in order ([`crate::call::decide_all`]).
    pub fn on_events<P: Plugin>(socket: &LentSocket, burst: WireBurst) -> Vec<WireVerdict> {
        about::<P, _>(socket, |plugin, socket| {
            let mut burst = crate::call::Burst::new(burst);
            crate::call::decide_all(plugin, socket, burst.len(), |i, event| burst.read(i, event)).map(EventVerdict::into_wit).collect()
        })
    }
}
