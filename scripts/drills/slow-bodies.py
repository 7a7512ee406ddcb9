#!/usr/bin/env python3
"""Slow-body drill: many clients send their headers, then trickle the body one byte a second,
while /healthz is timed. Measures whether slow clients can starve the server.

Loopback only, bounded in connections and time, stops by itself:

    scripts/drills/slow-bodies.py --port 8080 --connections 5000 --duration 30

Prints /healthz latency (p50, p99, max, failures) and what became of the slow connections
(answered with which status, after how long; still open at the end).
"""

import argparse
import asyncio
import ipaddress
import json
import resource
import socket
import statistics
import sys
import time

MAX_CONNECTIONS = 20_000
MAX_DURATION = 300


def percentile(values, p):
    if not values:
        return None
    ordered = sorted(values)
    k = min(len(ordered) - 1, max(0, round(p / 100 * (len(ordered) - 1))))
    return ordered[k]


async def slow_client(args, stop_at, results):
    """One connection: headers at once, then a byte a second of a body that never completes."""
    try:
        reader, writer = await asyncio.wait_for(
            asyncio.open_connection(args.host, args.port), timeout=10
        )
    except (OSError, asyncio.TimeoutError) as e:
        results["connect_failed"] += 1
        results["connect_errors"][type(e).__name__] = results["connect_errors"].get(type(e).__name__, 0) + 1
        return
    results["opened"] += 1
    t0 = time.monotonic()
    head = (
        f"POST {args.path} HTTP/1.1\r\nHost: {args.host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {args.body_length}\r\n\r\n{{"
    ).encode()
    outcome = None

    async def read_status():
        line = await reader.readline()
        parts = line.split()
        return parts[1].decode() if len(parts) > 1 else "closed"

    status_task = asyncio.ensure_future(read_status())
    try:
        writer.write(head)
        await writer.drain()
        sent = 1
        while time.monotonic() < stop_at and sent < args.body_length:
            done, _ = await asyncio.wait({status_task}, timeout=1.0)
            if done:
                break
            writer.write(b" ")
            await writer.drain()
            sent += 1
    except OSError:
        pass
    if status_task.done():
        try:
            outcome = status_task.result()
        except (OSError, asyncio.IncompleteReadError):
            outcome = "reset"
    else:
        status_task.cancel()
        outcome = "still-open" if time.monotonic() >= stop_at else "write-failed"
    elapsed = time.monotonic() - t0
    results["outcomes"][outcome] = results["outcomes"].get(outcome, 0) + 1
    if outcome != "still-open":
        results["cut_after"].append(elapsed)
    writer.close()


async def probe(args, stop_at, latencies, failures):
    """GET /healthz on a fresh connection every interval; time to the full answer."""
    while time.monotonic() < stop_at:
        t0 = time.monotonic()
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(args.host, args.port), timeout=args.probe_timeout
            )
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {args.host}\r\nConnection: close\r\n\r\n".encode())
            await writer.drain()
            data = await asyncio.wait_for(reader.read(), timeout=args.probe_timeout)
            writer.close()
            if not data.startswith(b"HTTP/1.1 200"):
                failures["status"] += 1
            else:
                latencies.append((time.monotonic() - t0) * 1000)
        except (OSError, asyncio.TimeoutError) as e:
            failures[type(e).__name__] = failures.get(type(e).__name__, 0) + 1
        await asyncio.sleep(max(0.0, args.probe_interval - (time.monotonic() - t0)))


async def main(args):
    started = time.monotonic()
    stop_at = started + args.duration
    results = {"opened": 0, "connect_failed": 0, "connect_errors": {}, "outcomes": {}, "cut_after": []}
    latencies, failures = [], {"status": 0}
    idle_latencies = []
    # A baseline before the slow clients arrive.
    await probe(argparse.Namespace(**{**vars(args), "probe_interval": 0.05}), time.monotonic() + 2, idle_latencies, {"status": 0})

    gate = asyncio.Semaphore(args.open_concurrency)

    async def gated():
        async with gate:
            pass
        await slow_client(args, stop_at, results)

    clients = [asyncio.ensure_future(gated()) for _ in range(args.connections)]
    prober = asyncio.ensure_future(probe(args, stop_at, latencies, failures))
    await asyncio.gather(*clients, prober)

    summary = {
        "target": f"{args.host}:{args.port}{args.path}",
        "slow_connections": args.connections,
        "duration_s": args.duration,
        "opened": results["opened"],
        "connect_failed": results["connect_failed"],
        "connect_errors": results["connect_errors"],
        "outcomes": results["outcomes"],
        "cut_after_s_p50": round(percentile(results["cut_after"], 50), 2) if results["cut_after"] else None,
        "healthz_idle_ms_p50": round(percentile(idle_latencies, 50), 2) if idle_latencies else None,
        "healthz_probes": len(latencies) + sum(failures.values()),
        "healthz_failed": failures,
        "healthz_ms_p50": round(percentile(latencies, 50), 2) if latencies else None,
        "healthz_ms_p99": round(percentile(latencies, 99), 2) if latencies else None,
        "healthz_ms_max": round(max(latencies), 2) if latencies else None,
        "healthz_ms_mean": round(statistics.mean(latencies), 2) if latencies else None,
    }
    print(json.dumps(summary, indent=2))


def parse():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--path", default="/api/v1/auth/login", help="a route that reads a JSON body")
    p.add_argument("--connections", type=int, default=5000)
    p.add_argument("--duration", type=float, default=30, help="seconds the drill runs")
    p.add_argument("--body-length", type=int, default=1000, help="declared Content-Length")
    p.add_argument("--open-concurrency", type=int, default=200, help="connections being opened at once")
    p.add_argument("--probe-interval", type=float, default=0.1)
    p.add_argument("--probe-timeout", type=float, default=10)
    args = p.parse_args()
    addr = ipaddress.ip_address(socket.gethostbyname(args.host))
    if not addr.is_loopback:
        p.error(f"{args.host} is not a loopback address; this drill only runs against 127.0.0.1")
    if not 1 <= args.connections <= MAX_CONNECTIONS:
        p.error(f"--connections must be between 1 and {MAX_CONNECTIONS}")
    if not 1 <= args.duration <= MAX_DURATION:
        p.error(f"--duration must be between 1 and {MAX_DURATION} seconds")
    return args


if __name__ == "__main__":
    args = parse()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    need = args.connections + 100
    if soft < need:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(need, soft)), hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < need:
        print(f"warning: open-file limit {resource.getrlimit(resource.RLIMIT_NOFILE)[0]} < {need}", file=sys.stderr)
    asyncio.run(main(args))
