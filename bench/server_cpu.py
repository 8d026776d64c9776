"""CPU seconds a command used, split between its own processes and the PostgreSQL server's.

    DATABASE_URL=postgres://... python bench/server_cpu.py -- python manage.py migrate_data --fresh --no-input

Runs the command and reads the server's CPU counters from ``/proc`` before and after: the
postmaster's own time, the time of its live children (backends, background workers) and the
time of the children it has already reaped. So the server must run on this machine (as root or
as the server's user, to read its ``postmaster.pid``). Other work on the server during the run
is counted too: run it on an otherwise idle server.
"""
from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import psycopg

TICKS = os.sysconf("SC_CLK_TCK")


def proc_stat(pid: int) -> list[str]:
    """Fields of ``/proc/<pid>/stat`` from the third on (state, ppid, ...; utime and stime are 11 and 12)."""
    text = Path(f"/proc/{pid}/stat").read_text()
    return text[text.rindex(")") + 2:].split()


def server_ticks(postmaster: int) -> int:
    """utime + stime of the postmaster, its live children and its reaped children, in clock ticks."""
    fields = proc_stat(postmaster)
    total = sum(int(fields[i]) for i in (11, 12, 13, 14))  # utime, stime, cutime, cstime
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            child = proc_stat(int(entry.name))
        except (OSError, ValueError):
            continue  # exited meanwhile
        if int(child[1]) == postmaster:
            total += int(child[11]) + int(child[12])
    return total


def postmaster_pid(url: str) -> int:
    with psycopg.connect(url) as connection:
        data_directory = connection.execute("SHOW data_directory").fetchone()[0]
    return int((Path(data_directory) / "postmaster.pid").read_text().split()[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the command, after --")
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command or not os.environ.get("DATABASE_URL"):
        raise SystemExit("usage: DATABASE_URL=... python bench/server_cpu.py -- COMMAND ...")
    postmaster = postmaster_pid(os.environ["DATABASE_URL"])
    before_server = server_ticks(postmaster)
    before_own = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    returncode = subprocess.run(command, stdout=subprocess.DEVNULL, check=False).returncode
    wall = time.monotonic() - started
    own = resource.getrusage(resource.RUSAGE_CHILDREN)
    server = (server_ticks(postmaster) - before_server) / TICKS
    command_cpu = (own.ru_utime - before_own.ru_utime) + (own.ru_stime - before_own.ru_stime)
    print(f"wall {wall:.1f} s; CPU of the command's processes {command_cpu:.1f} s; "
          f"CPU of the PostgreSQL server {server:.1f} s; exit {returncode}")
    sys.exit(returncode)


if __name__ == "__main__":
    main()
