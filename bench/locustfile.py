"""Mixed read/write traffic against the JSON API, recording every request and every acknowledged write.

Run by bench/cutover_load.py (headless). Environment:

* ``BENCH_OUTPUT``: where to write, at exit, the JSON record of requests and acknowledged writes.
* ``BENCH_STOP_FILE``: when this file appears the run stops gracefully (users finish their task),
  so the driver decides how long the load lasts while it moves the cutover through its phases.
* ``BENCH_RATE``: requests per second per user (default 4).
* ``BENCH_CITIES`` / ``BENCH_PRODUCTS``: JSON lists of filter values that exist in the seed data.
* ``BENCH_API_KEY``: the API key every request sends (``Authorization: Bearer``); the driver
  issues it with ``manage.py api_key create`` and never writes it into its results or logs.

The mix is read-heavy like the legacy app's traffic: 15 reads to 5 writes by task weight. A cache
read is a write underneath too: like the legacy cache, a hit bumps hit_count and last_accessed.

A request counts as failed when its status is not the one the API promises for it; a read of a row
this user wrote and saw acknowledged must succeed, so a lost or late write shows up as a failure.
"""
from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gevent
from locust import constant_throughput, events, task
from locust.contrib.fasthttp import FastHttpUser

READ = "read"
WRITE = "write"

CITIES: list[str] = json.loads(os.environ.get("BENCH_CITIES", '["Ankara", "İstanbul", "İzmir"]'))
PRODUCTS: list[str] = json.loads(os.environ.get("BENCH_PRODUCTS", '["tavuk-gogus", "pirinc", "mercimek"]'))
LEVELS = ["info", "success", "warn", "error"]
STATUSES = ["queued", "processing", "extracting", "ready", "completed"]

# Everything below is per process; locust runs all users of a process as greenlets, so plain
# containers are safe (greenlets switch only on I/O).
REQUESTS: list[list[Any]] = []
ACKS: dict[str, Any] = {"logs": {}, "semantic_cache": {}, "analyses": {}, "same_id_twice": []}
UNEXPECTED: list[str] = []
_serial = itertools.count()
HEADERS = {"Content-Type": "application/json", "Authorization": f"Bearer {os.environ.get('BENCH_API_KEY', '')}"}


@events.request.add_listener
def record_request(
    request_type: str, name: str, response_time: float, response_length: int, exception: Any = None,
    start_time: float | None = None, **kwargs: Any,
) -> None:
    """Keep (start, latency ms, kind, name, ok) for per-phase statistics computed by the driver."""
    kind, _, _ = name.partition(" ")
    started = start_time if start_time is not None else time.time() - response_time / 1000
    REQUESTS.append([round(started, 4), round(response_time, 2), kind, name, exception is None])
    if exception is not None and len(UNEXPECTED) < 200:
        UNEXPECTED.append(f"{time.time():.3f} {name}: {exception}")


@events.test_start.add_listener
def watch_stop_file(environment: Any, **kwargs: Any) -> None:
    stop_file = os.environ.get("BENCH_STOP_FILE")
    if not stop_file:
        return

    def watch() -> None:
        while not Path(stop_file).exists():
            gevent.sleep(0.2)
        environment.runner.quit()

    gevent.spawn(watch)


@events.quitting.add_listener
def dump(environment: Any, **kwargs: Any) -> None:
    output = os.environ.get("BENCH_OUTPUT")
    if output:
        Path(output).write_text(json.dumps({"requests": REQUESTS, "acks": ACKS, "unexpected": UNEXPECTED}))


class ApiClient(FastHttpUser):
    """One client of the legacy API: it reads shared data and its own writes, and writes new rows."""

    wait_time = constant_throughput(float(os.environ.get("BENCH_RATE", "4")))

    def on_start(self) -> None:
        self.client_id = f"{os.getpid()}-{next(_serial)}"
        self.serial = itertools.count()
        self.cache_hashes: list[str] = []
        self.analyses: list[str] = []

    def call(self, kind: str, method: str, url: str, expect: int, name: str, body: Any = None) -> Any:
        """One request; the status must be ``expect``; returns the decoded body on success."""
        with self.client.request(
            method, url, name=f"{kind} {name}", data=None if body is None else json.dumps(body),
            headers=HEADERS, catch_response=True,
        ) as response:
            if response.status_code != expect:
                response.failure(f"{method} {url}: expected {expect}, got {response.status_code}: {response.text[:200]}")
                return None
            try:
                payload = response.json()
            except ValueError:
                response.failure(f"{method} {url}: body is not JSON")
                return None
            response.success()
            return payload

    # --- reads ----------------------------------------------------------------------------

    @task(4)
    def list_tenders(self) -> None:
        query = urlencode({"city": random.choice(CITIES), "status": "active", "limit": 20})
        self.call(READ, "GET", f"/api/tenders?{query}", 200, "GET /api/tenders")

    @task(4)
    def list_market_prices(self) -> None:
        query = urlencode({"product_key": random.choice(PRODUCTS), "limit": 30})
        self.call(READ, "GET", f"/api/market-prices?{query}", 200, "GET /api/market-prices")

    @task(2)
    def list_logs(self) -> None:
        self.call(READ, "GET", f"/api/logs?level={random.choice(LEVELS)}&limit=20", 200, "GET /api/logs")

    @task(3)
    def read_cache(self) -> None:
        if not self.cache_hashes:
            return self.write_cache()
        self.call(READ, "GET", f"/api/semantic-cache/{random.choice(self.cache_hashes)}", 200, "GET /api/semantic-cache/[hash]")

    @task(2)
    def read_analysis(self) -> None:
        if not self.analyses:
            return self.create_analysis()
        self.call(READ, "GET", f"/api/analysis/{random.choice(self.analyses)}", 200, "GET /api/analysis/[id]")

    # --- writes ---------------------------------------------------------------------------

    @task(2)
    def write_log(self) -> None:
        level = random.choice(LEVELS)
        message = f"bench {self.client_id} #{next(self.serial)}"
        log = {"level": level, "message": message, "data": {"client": self.client_id}}
        body = self.call(WRITE, "POST", "/api/logs", 201, "POST /api/logs", log)
        if body is not None:
            acked = {"level": level, "message": message}
            if str(body["id"]) in ACKS["logs"]:
                # Two acknowledged inserts under one id: one of them cannot be in both databases.
                ACKS["same_id_twice"].append({"table": "logs", "id": body["id"], "first": ACKS["logs"][str(body["id"])], "second": acked})
            ACKS["logs"][str(body["id"])] = acked

    @task(1)
    def write_cache(self) -> None:
        prompt = f"bench prompt {self.client_id} #{next(self.serial)}"
        key = hashlib.sha256(prompt.encode()).hexdigest()
        tokens = random.randint(10, 5000)
        payload = {"prompt_text": prompt, "response_data": {"text": "cached"}, "model": "claude-sonnet",
                   "temperature": 0.2, "tokens_used": tokens}
        body = self.call(WRITE, "PUT", f"/api/semantic-cache/{key}", 201, "PUT /api/semantic-cache/[hash]", payload)
        if body is not None:
            ACKS["semantic_cache"][body["id"]] = {"prompt_hash": key, "tokens_used": tokens}
            self.cache_hashes.append(key)

    @task(1)
    def create_analysis(self) -> None:
        file_name = f"sartname-{self.client_id}-{next(self.serial)}.pdf"
        body = self.call(WRITE, "POST", "/api/analysis", 201, "POST /api/analysis", {"file_name": file_name, "file_size": 4096})
        if body is not None:
            ACKS["analyses"][body["id"]] = {"file_name": file_name, "status": "pending", "progress": 0}
            self.analyses.append(body["id"])

    @task(1)
    def patch_analysis(self) -> None:
        if not self.analyses:
            return self.create_analysis()
        analysis_id = random.choice(self.analyses)
        change = {"status": random.choice(STATUSES), "progress": random.randint(1, 100)}
        # Each analysis has one writer (this user) and its patches are sequential, so the last
        # acknowledged patch is the state both databases must hold at the end.
        if self.call(WRITE, "PATCH", f"/api/analysis/{analysis_id}", 200, "PATCH /api/analysis/[id]", change) is not None:
            ACKS["analyses"][analysis_id].update(change)
        else:
            # The server may or may not have applied it: only the row's presence can be checked now.
            ACKS["analyses"][analysis_id]["uncertain"] = True
