//! Hot reload: watches `config.toml` and every plugin file, and applies changes to the
//! running [`App`] without dropping a connection.
//!
//! The watch is on their folders (a file replaced by rename is a new file), and only
//! events about those files count: a log or a temporary file written beside them wakes
//! nothing.
//!
//! File events are debounced ([`DEBOUNCE`]): editors and compilers write a file in several
//! steps, and one reload should see the finished file. A reload re-reads the config (a
//! file that fails to parse or validate keeps the old config live and is logged with the
//! file and the reason), recompiles what changed off the async runtime, and swaps.

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher};
use tokio::sync::Notify;

use crate::app::{App, ReloadReport};
use crate::config::Config;

/// Quiet time after the last file event before reloading.
pub const DEBOUNCE: Duration = Duration::from_millis(150);

/// Keeps the watch alive; dropping it stops watching.
pub struct Reloader {
    _task: tokio::task::JoinHandle<()>,
}

/// Starts watching `config_path` and the plugin files it names. Each completed reload is
/// also sent to `reports` when given (tests and tools use it).
pub fn watch(
    app: Arc<App>,
    config_path: PathBuf,
    reports: Option<tokio::sync::mpsc::UnboundedSender<Result<ReloadReport, String>>>,
) -> notify::Result<Reloader> {
    let changed = Arc::new(Notify::new());
    let signal = changed.clone();
    let names = Arc::new(Mutex::new(BTreeSet::new()));
    let wanted = names.clone();
    let mut watcher: RecommendedWatcher = notify::recommended_watcher(move |event: notify::Result<notify::Event>| {
        if let Ok(event) = event
            && !event.kind.is_access()
            && concerns(&event.paths, &wanted.lock().unwrap_or_else(|e| e.into_inner()))
        {
            signal.notify_one();
        }
    })?;
    let mut watched = BTreeSet::new();
    watch_files(&mut watcher, &mut watched, &names, files(&config_path, &app.config()));

    let task = tokio::spawn(async move {
        loop {
            changed.notified().await;
            // Debounce: wait until the files have been quiet for a while.
            while tokio::time::timeout(DEBOUNCE, changed.notified()).await.is_ok() {}
            let started = Instant::now();
            let outcome = {
                let (app, path) = (app.clone(), config_path.clone());
                tokio::task::spawn_blocking(move || reload_once(&app, &path)).await
            };
            let (outcome, tried) = outcome.unwrap_or_else(|panic| (Err(format!("reload panicked: {panic}")), Vec::new()));
            match &outcome {
                Ok(report) if !report.is_empty() => {
                    tracing::info!(elapsed_ms = started.elapsed().as_secs_f64() * 1e3, "reload applied");
                }
                Ok(_) => {}
                Err(error) => tracing::error!(%error, "reload failed; the running version stays live"),
            }
            // The files of the config in force, and of one that failed only for want of a
            // file (a plugin copied in after the config naming it): its arrival reloads.
            let mut now_wanted = files(&config_path, &app.config());
            now_wanted.extend(tried);
            watch_files(&mut watcher, &mut watched, &names, now_wanted);
            if let Some(reports) = &reports {
                let _ = reports.send(outcome);
            }
        }
    });
    Ok(Reloader { _task: task })
}

/// Reads `path` and applies it. Also returns the files the config names, if it could be
/// read, whether or not it applied.
fn reload_once(app: &App, path: &Path) -> (Result<ReloadReport, String>, Vec<PathBuf>) {
    match Config::load(path) {
        Ok(config) => {
            let tried = files(path, &config);
            (app.reload(config).map_err(|e| format!("{}: {e}", path.display())), tried)
        }
        Err(error) => (Err(error.to_string()), Vec::new()),
    }
}

/// The files a reload reads: the config file and every plugin it names.
fn files(config_path: &Path, config: &Config) -> Vec<PathBuf> {
    std::iter::once(config_path.to_path_buf()).chain(config.plugins.values().map(|spec| spec.path.clone())).collect()
}

/// Whether a file event about `paths` concerns one of the files named `names`. An event
/// that names no file (a backend's "rescan") might.
fn concerns(paths: &[PathBuf], names: &BTreeSet<OsString>) -> bool {
    paths.is_empty() || paths.iter().any(|path| path.file_name().is_some_and(|name| names.contains(name)))
}

/// Watches the folders of `files` (non-recursively, since files are often replaced by
/// rename rather than written in place), and makes their names the ones whose events
/// count.
fn watch_files(watcher: &mut RecommendedWatcher, watched: &mut BTreeSet<PathBuf>, names: &Mutex<BTreeSet<OsString>>, files: Vec<PathBuf>) {
    *names.lock().unwrap_or_else(|e| e.into_inner()) = files.iter().filter_map(|file| file.file_name().map(OsString::from)).collect();
    let folders = files
        .iter()
        .filter_map(|file| {
            let parent = file.parent()?;
            Some(if parent.as_os_str().is_empty() { PathBuf::from(".") } else { parent.to_path_buf() })
        })
        .collect::<BTreeSet<_>>();
    for folder in folders {
        if !watched.contains(&folder) {
            match watcher.watch(&folder, RecursiveMode::NonRecursive) {
                Ok(()) => {
                    watched.insert(folder);
                }
                Err(error) => tracing::warn!(folder = %folder.display(), %error, "cannot watch"),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_events_about_the_watched_files_count() {
        let names: BTreeSet<OsString> = ["config.toml", "auth.wasm"].into_iter().map(OsString::from).collect();
        let event = |paths: &[&str]| concerns(&paths.iter().map(PathBuf::from).collect::<Vec<_>>(), &names);
        assert!(event(&["./config.toml"]));
        assert!(event(&["/srv/roomd/plugins/config.toml.incoming", "/srv/roomd/plugins/auth.wasm"]), "a rename onto a plugin");
        assert!(event(&[]), "a rescan");
        assert!(!event(&["./roomd.log"]));
        assert!(!event(&["./config.toml.swp", "./.config.toml.un~"]));
    }
}
