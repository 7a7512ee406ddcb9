#!/usr/bin/env python3
"""Crash drill: kill -9 under comment and edit load, then check nothing acknowledged was lost.

For each backend asked for, starts the given newsdesk binary (`serve --demo`, captcha and
comment rate limit off) on a fresh database (a SQLite file, or a throwaway PostgreSQL
cluster), drives it with comment posts and editorial PATCHes from several threads, and kills
it with SIGKILL at a random moment of each round; after every kill it starts the server
again on the same database. At the end it checks every acknowledged write against what is
stored: each comment answered 202 must be on the moderation desk, and each edit answered 200
must be the revision of the version it was acknowledged as. Not a test: run it against a
release build and quote its figures.

    scripts/drills/crash.py --binary "$CARGO_TARGET_DIR/release/newsdesk" --backend both
"""

import argparse
import http.client
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

from drill import free_port, pg

ADMIN = {"email": "drill@example.vn", "password": "drill-admin-password"}


class Client:
    def __init__(self, port, token=None):
        self.port, self.token = port, token
        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)

    def call(self, method, path, body=None):
        headers = {}
        if body is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            self.conn.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
            res = self.conn.getresponse()
            data = res.read()
            return res.status, (json.loads(data) if data else None)
        except (OSError, http.client.HTTPException, ValueError):
            self.conn.close()
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            return None, None


def start(binary, env, log):
    server = subprocess.Popen([binary, "serve", "--demo"], env=env, stdout=log, stderr=log)
    client = Client(int(env["NEWSDESK_BIND"].rsplit(":", 1)[1]))
    deadline = time.time() + 60
    while client.call("GET", "/readyz")[0] != 200:
        if time.time() > deadline or server.poll() is not None:
            sys.exit("the server did not become ready; see its log")
        time.sleep(0.05)
    return server


def drill(binary, backend, rounds, seconds, clients):
    work = tempfile.mkdtemp(prefix=f"newsdesk-crash-{backend}-")
    pg_dir = None
    port = free_port()
    env = dict(os.environ, NEWSDESK_BIND=f"127.0.0.1:{port}", NEWSDESK_CAPTCHA="off",
               NEWSDESK_COMMENT_RATE_PER_MIN="0", NEWSDESK_LOG="warn",
               NEWSDESK_ADMIN_EMAIL=ADMIN["email"], NEWSDESK_ADMIN_PASSWORD=ADMIN["password"])
    if backend == "postgres":
        pg_dir = tempfile.mkdtemp(prefix="newsdesk-crash-pg-")
        pg_port = free_port()
        pg("pg_throwaway_start", pg_dir, str(pg_port))
        env["NEWSDESK_DATABASE_URL"] = f"postgres://postgres@127.0.0.1:{pg_port}/postgres"
    else:
        env["NEWSDESK_DATABASE_URL"] = f"sqlite://{work}/drill.db"
    log = open(os.path.join(work, "server.log"), "w")
    comments, edits = [], []  # acknowledged: contents; (article id, version, summary)
    lock = threading.Lock()
    server = None
    try:
        for round_ in range(rounds):
            server = start(binary, env, log)
            admin = Client(port)
            _, login = admin.call("POST", "/api/v1/auth/login", ADMIN)
            token = login["data"]["access_token"]
            _, listing = admin.call("GET", "/api/v1/articles?per_page=5")
            slugs = [a["slug"] for a in listing["data"]]
            ids = [a["id"] for a in listing["data"]]
            stop = threading.Event()

            def commenter(n):
                c, i = Client(port), 0
                while not stop.is_set():
                    i += 1
                    content = f"r{round_}-c{n}-{i}-{random.random()}"
                    body = {"name": "Diễn tập", "title": "Thử", "content": content, "website": ""}
                    status, _ = c.call("POST", f"/api/v1/articles/{random.choice(slugs)}/comments", body)
                    if status == 202:
                        with lock:
                            comments.append(content)

            def editor(n):
                c, i = Client(port, token), 0
                while not stop.is_set():
                    i += 1
                    article = ids[n % len(ids)]
                    status, current = c.call("GET", f"/api/v1/admin/articles/{article}")
                    if status != 200:
                        continue
                    summary = f"Tóm tắt r{round_}-e{n}-{i}"
                    patch = {"summary": summary, "version": current["data"]["version"]}
                    status, answer = c.call("PATCH", f"/api/v1/admin/articles/{article}", patch)
                    if status == 200:
                        with lock:
                            edits.append((article, answer["data"]["version"], summary))

            threads = [threading.Thread(target=commenter, args=(n,), daemon=True) for n in range(clients)]
            threads += [threading.Thread(target=editor, args=(n,), daemon=True) for n in range(max(1, clients // 4))]
            for t in threads:
                t.start()
            time.sleep(random.uniform(seconds / 2, seconds))
            server.send_signal(signal.SIGKILL)
            server.wait()
            stop.set()
            for t in threads:
                t.join(timeout=15)

        server = start(binary, env, log)
        admin = Client(port)
        _, login = admin.call("POST", "/api/v1/auth/login", ADMIN)
        admin.token = login["data"]["access_token"]
        stored, page = set(), 1
        while True:
            status, body = admin.call("GET", f"/api/v1/admin/comments?status=pending&per_page=100&page={page}")
            if status != 200:
                sys.exit(f"reading the desk failed: {status}")
            stored.update(c["content"] for c in body["data"])
            if page >= body["meta"]["total_pages"]:
                break
            page += 1
        lost_comments = [c for c in comments if c not in stored]
        lost_edits = []
        for article, version, summary in edits:
            status, body = admin.call("GET", f"/api/v1/admin/articles/{article}/revisions/{version}")
            if status != 200 or body["data"]["content"]["summary"] != summary:
                lost_edits.append((article, version, summary))
        print(f"{backend:8} rounds {rounds}: comments acknowledged {len(comments)}, stored {len(comments) - len(lost_comments)}, "
              f"lost {len(lost_comments)}; edits acknowledged {len(edits)}, stored {len(edits) - len(lost_edits)}, "
              f"lost {len(lost_edits)}")
        return not lost_comments and not lost_edits
    finally:
        if server is not None and server.poll() is None:
            server.terminate()
            server.wait(timeout=30)
        if pg_dir:
            pg("pg_throwaway_stop", pg_dir)
        shutil.rmtree(work, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--binary", required=True)
    parser.add_argument("--backend", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=6.0, help="longest load before each kill")
    parser.add_argument("--clients", type=int, default=16)
    args = parser.parse_args()
    backends = ["sqlite", "postgres"] if args.backend == "both" else [args.backend]
    ok = all([drill(args.binary, b, args.rounds, args.seconds, args.clients) for b in backends])
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
