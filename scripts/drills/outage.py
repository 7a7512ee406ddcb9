#!/usr/bin/env python3
"""Outage drill: PostgreSQL stopped under load, then started again.

Starts a throwaway PostgreSQL cluster and the given newsdesk binary (`serve --demo`, response
cache off so every read needs the database), drives it with CLIENTS threads on loopback
(uncached list reads, /readyz, and comment posts), stops PostgreSQL for OUTAGE seconds, starts
it again, and prints how fast the 503s came during the outage and how soon service resumed
after the database was back. Not a test: run it against a release build and quote its
figures.

    scripts/drills/outage.py --binary "$CARGO_TARGET_DIR/release/newsdesk"
"""

import argparse
import http.client
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time

from drill import free_port, pg


def request(conn, method, path, body=None):
    headers = {"Content-Type": "application/json"} if body is not None else {}
    conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    res = conn.getresponse()
    res.read()
    return res.status


def percentile(values, p):
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--before", type=float, default=5.0, help="seconds of load before the outage")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds PostgreSQL stays down")
    parser.add_argument("--after", type=float, default=8.0, help="seconds of load after it is back")
    args = parser.parse_args()

    work = tempfile.mkdtemp(prefix="newsdesk-outage-")
    pg_dir = tempfile.mkdtemp(prefix="newsdesk-outage-pg-")
    pg_port, port = free_port(), free_port()
    server = None
    try:
        pg("pg_throwaway_start", pg_dir, str(pg_port))
        env = dict(
            os.environ,
            NEWSDESK_DATABASE_URL=f"postgres://postgres@127.0.0.1:{pg_port}/postgres",
            NEWSDESK_BIND=f"127.0.0.1:{port}",
            NEWSDESK_CACHE_MB="0",
            NEWSDESK_CAPTCHA="off",
            NEWSDESK_COMMENT_RATE_PER_MIN="0",
            NEWSDESK_LOG="error",
            NEWSDESK_ADMIN_EMAIL="drill@example.vn",
            NEWSDESK_ADMIN_PASSWORD="drill-admin-password",
        )
        log = open(os.path.join(work, "server.log"), "w")
        server = subprocess.Popen([args.binary, "serve", "--demo"], env=env, stdout=log, stderr=log)
        deadline = time.time() + 60
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                if request(conn, "GET", "/readyz") == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline:
                sys.exit("the server did not become ready")
            time.sleep(0.1)
        conn.request("GET", "/api/v1/articles?per_page=1")
        slug = json.loads(conn.getresponse().read())["data"][0]["slug"]

        records = []  # (kind, started, ended, status)
        lock = threading.Lock()
        stop = threading.Event()

        def client(n):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            i = 0
            while not stop.is_set():
                i += 1
                kind = ("read", "ready", "read", "comment")[(n + i) % 4]
                started = time.time()
                try:
                    if kind == "read":
                        status = request(conn, "GET", f"/api/v1/articles?page={1 + i % 3}&per_page=5")
                    elif kind == "ready":
                        status = request(conn, "GET", "/readyz")
                    else:
                        body = {"name": "Diễn tập", "title": "Thử", "content": f"{n}-{i}-{started}", "website": ""}
                        status = request(conn, "POST", f"/api/v1/articles/{slug}/comments", body)
                except (OSError, http.client.HTTPException):
                    status = "error"
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                with lock:
                    records.append((kind, started, time.time(), status))

        threads = [threading.Thread(target=client, args=(n,), daemon=True) for n in range(args.clients)]
        for t in threads:
            t.start()
        time.sleep(args.before)
        down_at = time.time()
        pg("pg_throwaway_pause", pg_dir)
        stopped_at = time.time()
        time.sleep(args.outage)
        pg("pg_throwaway_resume", pg_dir, str(pg_port))
        back_at = time.time()
        time.sleep(args.after)
        stop.set()
        for t in threads:
            t.join(timeout=35)

        print(f"clients {args.clients}; PostgreSQL stopped {stopped_at - down_at:.2f}s after the drill asked, "
              f"down for {back_at - stopped_at:.1f}s")
        print(f"{'kind':8} {'503s':>6} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
        for kind in ("read", "ready", "comment"):
            lat = [(e - s) * 1000 for k, s, e, st in records if k == kind and st == 503]
            print(f"{kind:8} {len(lat):6d} {percentile(lat, 50):8.1f} {percentile(lat, 99):8.1f} "
                  f"{max(lat) if lat else float('nan'):8.1f}")
        all_503 = [(e - s) * 1000 for k, s, e, st in records if st == 503]
        print(f"all 503s: {len(all_503)}, p50 {percentile(all_503, 50):.1f} ms, p99 {percentile(all_503, 99):.1f} ms, "
              f"max {max(all_503) if all_503 else float('nan'):.1f} ms")
        odd = {}
        for k, s, e, st in records:
            if st not in (200, 202, 503):
                odd[(k, st)] = odd.get((k, st), 0) + 1
        print("other answers:", odd or "none")
        first_ok = min((e for k, s, e, st in records if k == "read" and st == 200 and s >= back_at), default=None)
        if first_ok is None:
            print("service did not resume within the drill")
        else:
            print(f"first successful read {first_ok - back_at:.2f}s after PostgreSQL was back")
        acknowledged = sum(1 for k, s, e, st in records if k == "comment" and st == 202)
        # Counted through the moderation desk: every acknowledged comment must be stored.
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.request("POST", "/api/v1/auth/login", body=json.dumps(
            {"email": env["NEWSDESK_ADMIN_EMAIL"], "password": env["NEWSDESK_ADMIN_PASSWORD"]}),
            headers={"Content-Type": "application/json"})
        token = json.loads(conn.getresponse().read())["data"]["access_token"]
        conn.request("GET", "/api/v1/admin/comments?status=pending&per_page=1",
                     headers={"Authorization": f"Bearer {token}"})
        stored = json.loads(conn.getresponse().read())["meta"]["total"]
        print(f"comments acknowledged (202): {acknowledged}, stored: {stored}")
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=30)
        pg("pg_throwaway_stop", pg_dir)
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
