//! The counter shared by both versions; only the version number differs.

/// Defines and exports the counter plugin reporting `$version`.
macro_rules! counter {
    ($version:literal) => {
        use roomd_plugin_sdk::{Event, EventVerdict, Plugin, Socket, export_plugin};
        use serde_json::{Value, json};

        /// Counts events; answers `count` with `{version, count}`.
        pub struct Counter {
            count: u64,
        }

        impl Plugin for Counter {
            fn init(_config: &Value) -> Result<Self, String> {
                Ok(Counter { count: 0 })
            }

            fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
                if event.name == "count" {
                    return EventVerdict::handled(&[json!({ "version": $version, "count": self.count })]);
                }
                self.count += 1;
                EventVerdict::handled(&[json!({ "version": $version, "count": self.count })])
            }

            fn snapshot(&mut self) -> Vec<u8> {
                self.count.to_le_bytes().to_vec()
            }

            fn restore(&mut self, state: &[u8]) -> Result<(), String> {
                let bytes: [u8; 8] = state.try_into().map_err(|_| format!("expected 8 bytes, got {}", state.len()))?;
                self.count = u64::from_le_bytes(bytes);
                Ok(())
            }
        }

        export_plugin!(Counter);
    };
}

pub(crate) use counter;
