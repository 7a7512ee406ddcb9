"""What the drills share: throwaway PostgreSQL clusters and free loopback ports."""

import os
import socket
import subprocess

PG = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "pg-throwaway.sh")


def pg(command, *args):
    """Runs a function of scripts/pg-throwaway.sh (`pg_throwaway_start DIR PORT`, …)."""
    quoted = " ".join(f"'{a}'" for a in args)
    subprocess.run(["bash", "-c", f"source '{PG}' && {command} {quoted}"], check=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
