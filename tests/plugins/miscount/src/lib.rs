//! A plugin written against the contract's raw bindings, past the SDK, to break a rule
//! the SDK keeps: its `on-events` answers one verdict too few. roomd must take that as a
//! failure for every event of the call.

#[cfg(target_arch = "wasm32")]
mod plugin {
    use roomd_plugin_sdk::bindings::Guest;
    use roomd_plugin_sdk::bindings::roomd::plugin::types::{
        Burst, ConnectVerdict, Event, EventFilter, EventVerdict, Handshake, Hooks, Interests, Socket,
    };

    struct Miscount;

    impl Guest for Miscount {
        fn init(_config: String) -> Result<Interests, String> {
            Ok(Interests { hooks: Hooks::empty(), events: EventFilter::All })
        }
        fn on_connect(_handshake: Handshake) -> ConnectVerdict {
            ConnectVerdict::Allow(None)
        }
        fn on_connected(_socket: &Socket) {}
        fn on_event(_socket: &Socket, _event: Event) -> EventVerdict {
            EventVerdict::Allow
        }
        fn on_events(_socket: &Socket, burst: Burst) -> Vec<EventVerdict> {
            burst.events.iter().skip(1).map(|_| EventVerdict::Allow).collect()
        }
        fn on_room_joined(_socket: &Socket, _room: String) {}
        fn on_room_left(_socket: &Socket, _room: String) {}
        fn on_disconnect(_socket: &Socket, _reason: String) {}
        fn snapshot() -> Vec<u8> {
            Vec::new()
        }
        fn restore(_state: Vec<u8>) -> Result<(), String> {
            Ok(())
        }
    }

    roomd_plugin_sdk::bindings::__export_world!(Miscount);
}
