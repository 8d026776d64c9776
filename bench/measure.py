"""Bench utilities: run a command while sampling the memory of its whole process tree."""
from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class Measurement:
    """Wall time and memory of one command (memory sampled every 50 ms over its process tree)."""

    command: list[str]
    seconds: float
    returncode: int
    peak_rss_kb: int  # the largest single process
    peak_tree_rss_kb: int  # all processes of the tree at once (shared pages counted in each)
    peak_tree_pss_kb: int  # all processes at once, shared pages split between them
    stdout: str
    stderr: str
    load_before: str
    load_after: str


def _children(pid: int) -> list[int]:
    found = [pid]
    table: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        table.setdefault(int(fields[1]), []).append(int(entry.name))
    index = 0
    while index < len(found):
        found.extend(table.get(found[index], []))
        index += 1
    return found


def _memory(pid: int) -> tuple[int, int]:
    rss = pss = 0
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Rss:"):
                rss = int(line.split()[1])
            elif line.startswith("Pss:"):
                pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


def loadavg() -> str:
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def measure(command: list[str], env: dict[str, str] | None = None, cwd: Path | None = None) -> Measurement:
    """Run ``command`` to completion and return its wall time and peak memory."""
    peaks = {"rss": 0, "tree_rss": 0, "tree_pss": 0}
    load_before = loadavg()
    started = time.monotonic()
    process = subprocess.Popen(
        command, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True,
    )
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            total_rss = total_pss = 0
            for pid in _children(process.pid):
                rss, pss = _memory(pid)
                peaks["rss"] = max(peaks["rss"], rss)
                total_rss += rss
                total_pss += pss
            peaks["tree_rss"] = max(peaks["tree_rss"], total_rss)
            peaks["tree_pss"] = max(peaks["tree_pss"], total_pss)
            stop.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.monotonic() - started
    stop.set()
    sampler.join()
    return Measurement(command, seconds, process.returncode, peaks["rss"], peaks["tree_rss"], peaks["tree_pss"],
                       stdout, stderr, load_before, loadavg())
