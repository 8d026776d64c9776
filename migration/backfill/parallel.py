"""Tables copied in worker processes: a table starts once the tables it references are done."""
from __future__ import annotations

import multiprocessing
from collections.abc import Iterator
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from django.apps import apps
from django.db import connections

from migration.backfill.rejects import RejectBudget
from migration.backfill.report import (
    CopyEvent,
    CopyOptions,
    ProgressCallback,
    TablePlan,
    TableResult,
)
from migration.backfill.table import TableCopier
from migration.reader import LegacyReader

# Worker processes: each gets the event queue and the reject budget at start, and copies one
# table per task on its own reader and target connection, kept from task to task.
_worker_queue: Any = None
_worker_budget: RejectBudget | None = None
_worker_reader: LegacyReader | None = None


def _worker_init(queue: Any, budget: RejectBudget) -> None:
    global _worker_queue, _worker_budget
    _worker_queue = queue
    _worker_budget = budget


def _worker_copy(label: str, options: CopyOptions) -> TableResult:
    """Copy one table in a worker."""
    global _worker_reader
    if _worker_budget is None:
        raise RuntimeError("_worker_copy runs in a pool started with _worker_init, which sets the reject budget")
    if _worker_reader is None:
        _worker_reader = LegacyReader.open(options.source_alias)
    model = apps.get_model(label)
    return TableCopier(model, _worker_reader, options, _worker_budget, _worker_queue.put).run()


def run_parallel(
    planned: list[TablePlan], options: CopyOptions, budget: RejectBudget, callback: ProgressCallback
) -> list[TableResult]:
    """Copy the planned tables in ``options.jobs`` worker processes; results in plan order."""
    labels = {p.label for p in planned}
    depends = {
        p.label: {
            f.related_model._meta.label for f in apps.get_model(p.label)._meta.concrete_fields
            if f.is_relation and f.related_model is not None
            and f.related_model._meta.label in labels and f.related_model._meta.label != p.label
        }
        for p in planned
    }
    # Forked children must not share the parent's sockets: close them first, reopen lazily.
    connections.close_all()
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    results: dict[str, TableResult] = {}
    # Largest first, so the biggest table is not the one left running alone at the end.
    waiting = sorted(planned, key=lambda p: -p.pending_rows)
    running: dict[Future[TableResult], str] = {}
    with ProcessPoolExecutor(options.jobs, mp_context=context, initializer=_worker_init,
                             initargs=(queue, budget)) as pool:
        try:
            while waiting or running:
                for item in list(waiting):
                    if len(running) >= options.jobs:
                        break
                    if depends[item.label] <= set(results):
                        running[pool.submit(_worker_copy, item.label, options)] = item.label
                        waiting.remove(item)
                done, _ = wait(list(running), timeout=0.2, return_when=FIRST_COMPLETED)
                for event in _drain(queue):
                    callback(event)
                for future in done:
                    label = running.pop(future)
                    results[label] = future.result()
            for event in _drain(queue):
                callback(event)
        except BaseException:
            for future in running:
                future.cancel()
            raise
    return [results[p.label] for p in planned]


def _drain(queue: Any) -> Iterator[CopyEvent]:
    while True:
        try:
            yield queue.get_nowait()
        except Exception:  # noqa: BLE001 - queue.Empty: nothing more for now
            return
