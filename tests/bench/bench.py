#!/usr/bin/env python3
"""roomd's end-to-end benchmark: roomd, Node socket.io, socketioxide and a bare
tokio-tungstenite broadcaster, measured in the same run on this machine.

Every server runs pinned to core 0 and the load generator to core 1 (`taskset`), so the
comparison is per core. Results go to target/bench/results.json (a list of rows) and a
table with roomd's ratio to each peer is printed. `--quick` runs a reduced set.
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
RELEASE = TARGET / "release"
SERVER_CORE, LOADGEN_CORE = "0", "1"
SECRET = b"roomd-bench-secret-0123456789"


def servers():
    return {
        "roomd": lambda port: [RELEASE / "roomd", "--config", ROOT / "tests/bench/roomd.toml", "--listen", f"127.0.0.1:{port}"],
        "roomd+plugins": lambda port: [RELEASE / "roomd", "--config", ROOT / "tests/bench/roomd-plugins.toml", "--listen", f"127.0.0.1:{port}"],
        "roomd+noop": lambda port: [RELEASE / "roomd", "--config", ROOT / "tests/bench/roomd-noop.toml", "--listen", f"127.0.0.1:{port}"],
        "node": lambda port: ["node", ROOT / "tests/bench/peers/node/server.mjs", str(port)],
        "socketioxide": lambda port: [RELEASE / "roomd-bench-socketioxide", str(port)],
        "raw": lambda port: [RELEASE / "roomd-bench-raw", str(port)],
    }


def token():
    """An HS256 token the bench's auth plugin accepts."""
    b64 = lambda raw: base64.urlsafe_b64encode(raw).rstrip(b"=").decode()
    now = int(time.time())
    header = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    claims = b64(json.dumps({"sub": "bench", "iss": "bench", "aud": "bench", "exp": now + 3600}).encode())
    signature = b64(hmac.new(SECRET, f"{header}.{claims}".encode(), hashlib.sha256).digest())
    return f"{header}.{claims}.{signature}"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(name):
    port = free_port()
    command = ["taskset", "-c", SERVER_CORE, *map(str, servers()[name](port))]
    env = dict(os.environ, RUST_LOG="warn")
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    deadline = time.time() + 20
    while time.time() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return process, port
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{name} exited: {process.stderr.read().decode()}")
            time.sleep(0.05)
    process.kill()
    raise SystemExit(f"{name} did not start")


def stop(process):
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run(name, scenario, label, **options):
    """One scenario against a fresh server; returns the loadgen's row."""
    process, port = start(name)
    try:
        protocol = "raw" if name == "raw" else "sio"
        command = ["taskset", "-c", LOADGEN_CORE, RELEASE / "roomd-loadgen", "--addr", f"127.0.0.1:{port}",
                   "--protocol", protocol, "--scenario", scenario, "--server", name, "--label", label,
                   "--server-pid", str(process.pid)]
        if name == "roomd+plugins":
            command += ["--auth", json.dumps({"token": token()})]
        for key, value in options.items():
            command += [f"--{key}", str(value)]
        started = time.time()
        out = subprocess.run(list(map(str, command)), capture_output=True, text=True, timeout=300)
        if out.returncode != 0:
            print(f"  {label} on {name} failed: {out.stderr.strip()[-500:]}", file=sys.stderr)
            return None
        row = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"  {label:<16} {name:<14} {describe(row)}  ({time.time() - started:.1f} s)", flush=True)
        return row
    finally:
        stop(process)


def describe(row):
    parts = []
    if row.get("deliveries_per_s"):
        parts.append(f"{row['deliveries_per_s']:>11,.0f} deliveries/s  p50 {row['p50_ms']:.1f} ms  p99 {row['p99_ms']:.1f} ms")
    if row.get("expected") is not None and row.get("rss_kb_per_conn") is None:
        parts.append(f"{row['delivered']}/{row['expected']}")
    if row.get("rss_kb_per_conn") is not None:
        parts.append(f"{row['rss_kb_per_conn']:.1f} KB/conn")
    if row.get("connects_per_s"):
        parts.append(f"{row['connects_per_s']:,.0f} connects/s")
    if row.get("server_cpu_pct") is not None:
        parts.append(f"server cpu {row['server_cpu_pct']}%")
    parts.append(f"loadgen cpu {row.get('loadgen_cpu_pct')}%")
    return "  ".join(parts)


def plan(quick):
    """(scenario, label, servers, options, rounds): with rounds > 1 the servers run
    interleaved that many times and the median run is kept."""
    peers = ["roomd", "raw", "socketioxide", "node"]
    if quick:
        return [
            ("fanout", "fanout-1000", peers, dict(clients=1000, messages=1000), 1),
            ("chat", "chat-100x20", peers, dict(rooms=100, members=20, messages=30), 1),
            ("idle", "idle-2000", peers, dict(clients=2000), 1),
            ("fanout", "fanout-1000", ["roomd+plugins"], dict(clients=1000, messages=1000), 1),
            ("chat", "chat-100x20", ["roomd+plugins"], dict(rooms=100, members=20, messages=30), 1),
            ("storm", "connect-storm", ["roomd", "roomd+plugins"], dict(clients=2000), 1),
        ]
    # About a second of deliveries per throughput run at roomd's rate: long enough that
    # one run's figure is steady, short enough for the whole set to take minutes. The
    # plugin chain's cost is a ratio of runs some ten percent apart, on a machine whose
    # runs vary by about as much: those run interleaved, each round in a new order, median
    # kept — three rounds for fan-out, nine for chat, where the target is — and the cost
    # is also taken round by round (see `costs`).
    return [
        ("fanout", "fanout-1000", ["roomd", "roomd+plugins"], dict(clients=1000, messages=3000), 3),
        ("fanout", "fanout-1000", peers[1:], dict(clients=1000, messages=3000), 1),
        ("fanout", "fanout-5000", peers, dict(clients=5000, messages=600), 1),
        ("chat", "chat-100x20", ["roomd", "roomd+plugins", "roomd+noop"], dict(rooms=100, members=20, messages=100), 9),
        ("chat", "chat-100x20", peers[1:], dict(rooms=100, members=20, messages=100), 1),
        ("idle", "idle-10000", peers, dict(clients=10000), 1),
        ("storm", "connect-storm", ["roomd", "roomd+plugins", "node", "socketioxide"], dict(clients=5000), 1),
    ]


def median(rows):
    """The run with the median rate (the middle one), noting how many there were."""
    rate = lambda r: r.get("deliveries_per_s") or r.get("connects_per_s") or 0
    row = sorted(rows, key=rate)[len(rows) // 2]
    return dict(row, runs=len(rows))


def cpu_ns_per_delivery(row):
    """The server's CPU time per delivery over the measured window, in nanoseconds."""
    if row.get("server_cpu_pct") and row.get("deliveries_per_s"):
        return row["server_cpu_pct"] / 100 / row["deliveries_per_s"] * 1e9
    return None


def costs(runs):
    """Round by round, each server's rate and CPU time per delivery against roomd's in
    the same round (its neighbour in time), the median of each kept: a machine's drift
    from round to round moves both runs of a round alike, so the ratio holds still where
    the runs do not. Returns {server: (rate ratio, CPU ratio, rounds)}."""
    base = runs.get("roomd", [])
    out = {}
    for name, rows in runs.items():
        if name == "roomd" or len(rows) != len(base) or len(rows) < 2:
            continue
        rate = sorted(r["deliveries_per_s"] / b["deliveries_per_s"] for r, b in zip(rows, base))
        cpu = sorted(cpu_ns_per_delivery(r) / cpu_ns_per_delivery(b) for r, b in zip(rows, base)
                     if cpu_ns_per_delivery(r) and cpu_ns_per_delivery(b))
        out[name] = (rate[len(rate) // 2], cpu[len(cpu) // 2] if cpu else None, len(rows))
    return out


def table(rows):
    by = {(r["scenario"], r["server"]): r for r in rows}
    print("\nscenario          server          deliveries/s     p50 ms   p99 ms   delivered/expected   KB/conn   roomd ratio")
    for (scenario, server), r in by.items():
        mine = by.get((scenario, "roomd"))
        metric = "deliveries_per_s" if r.get("deliveries_per_s") else "connects_per_s" if r.get("connects_per_s") else "rss_kb_per_conn"
        ratio = ""
        if mine and server != "roomd" and r.get(metric) and mine.get(metric):
            ratio = f"{mine[metric] / r[metric]:.2f}x"
        fmt = lambda v, f: format(v, f) if v is not None else "-"
        print(f"{scenario:<17} {server:<15} {fmt(r.get('deliveries_per_s') or r.get('connects_per_s'), '>12,.0f')}   "
              f"{fmt(r.get('p50_ms'), '>6.1f')}   {fmt(r.get('p99_ms'), '>6.1f')}   "
              f"{fmt(r.get('delivered'), '')}/{fmt(r.get('expected'), '')}".ljust(100)[:100]
              + f"  {fmt(r.get('rss_kb_per_conn'), '>6.1f')}   {ratio}")


def markdown(rows):
    """The results as the Markdown table BENCHMARKS.md holds."""
    fmt = lambda v, f: "—" if v is None else format(v, f)
    lines = ["| scenario | server | deliveries/s | p50 ms | p99 ms | delivered / expected | KB/conn | connects/s | server RSS MB | server CPU | loadgen CPU |",
             "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        delivered = f"{r['delivered']:,} / {r['expected']:,}" if r.get("expected") is not None else "—"
        rss = r.get("server_rss_kb")
        lines.append(f"| {r['scenario']} | {r['server']} | {fmt(r.get('deliveries_per_s'), ',.0f')} | {fmt(r.get('p50_ms'), '.1f')} | "
                     f"{fmt(r.get('p99_ms'), '.1f')} | {delivered} | {fmt(r.get('rss_kb_per_conn'), '.1f')} | "
                     f"{fmt(r.get('connects_per_s'), ',.0f')} | {fmt(rss / 1024 if rss else None, '.0f')} | "
                     f"{fmt(r.get('server_cpu_pct'), '.0f')}% | {fmt(r.get('loadgen_cpu_pct'), '.0f')}% |")
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", help="comma-separated servers to run")
    parser.add_argument("--scenario", help="comma-separated scenario labels to run (e.g. chat-100x20)")
    parser.add_argument("--merge", action="store_true", help="keep rows of servers not run from the last results.json")
    parser.add_argument("--markdown", action="store_true", help="print the last results.json as BENCHMARKS.md's table and exit")
    args = parser.parse_args()
    if args.markdown:
        rows = json.loads((TARGET / "bench" / "results.json").read_text())
        order = {name: i for i, name in enumerate(["roomd", "roomd+plugins", "roomd+noop", "raw", "socketioxide", "node"])}
        scenarios = list(dict.fromkeys(r["scenario"] for r in rows))
        rows.sort(key=lambda r: (scenarios.index(r["scenario"]), order.get(r["server"], 9)))
        print(markdown(rows))
        return
    only = set(args.only.split(",")) if args.only else None
    labels = set(args.scenario.split(",")) if args.scenario else None
    rows = []
    for scenario, label, names, options, rounds in plan(args.quick):
        if labels and label not in labels:
            continue
        names = [name for name in names if not only or name in only]
        if not names:
            continue
        runs = {name: [] for name in names}
        for turn in range(rounds):
            # Each round starts with the next server, so none always runs first.
            for name in names[turn % len(names):] + names[:turn % len(names)]:
                row = run(name, scenario, label, **options)
                if row:
                    runs[name].append(row)
        kept = {name: median(found) for name, found in runs.items() if found}
        for name, (rate, cpu, rounds) in costs(runs).items():
            # Kept with the row, for BENCHMARKS.md: the plugin cost as the target reads it.
            kept[name].update(paired_rate_vs_roomd=round(rate, 4), paired_cpu_vs_roomd=round(cpu, 4) if cpu else None)
            cpu_text = f", CPU per delivery {100 * (cpu - 1):+.1f} %" if cpu else ""
            print(f"  {label} {name} against roomd, round by round (median of {rounds}): rate {100 * (rate - 1):+.1f} %{cpu_text}")
        rows += kept.values()
    out = TARGET / "bench"
    out.mkdir(parents=True, exist_ok=True)
    if args.merge and (out / "results.json").exists():
        fresh = {(r["scenario"], r["server"]) for r in rows}
        kept = [r for r in json.loads((out / "results.json").read_text()) if (r["scenario"], r["server"]) not in fresh]
        rows = kept + rows
    (out / "results.json").write_text(json.dumps(rows, indent=2) + "\n")
    table(rows)
    print(f"\nwrote {out / 'results.json'}")


if __name__ == "__main__":
    main()
