"""Row-level comparison as data-diff does it: equal key-range segments are skipped, differing ones split.

Both sides sum row hashes per segment; a segment whose (count, sum) differs is cut into
``FANOUT`` sub-segments and compared again, down to single rows.
"""
from __future__ import annotations

import bisect
import itertools
import operator
from array import array
from dataclasses import dataclass
from typing import Any

from migration.db import chunks
from migration.exceptions import ConversionError
from migration.verify import hashcache
from migration.verify.hashcache import HashCache
from migration.verify.postgres import TargetSide
from migration.verify.report import RowDiff
from migration.verify.sqlite import SourceSide
from migration.verify.table import Table

FANOUT = 16  # sub-segments per bisection step
LEAF_ROWS = 64  # at or below this many rows a segment is compared row by row


@dataclass
class SourceScan:
    """Every readable source row's primary key and hash, in key order, plus the unreadable ones."""

    keys: Any
    hashes: array
    unreadable: list[dict[str, Any]]
    unreadable_pks: set[Any]


def scan_source(source: SourceSide, progress: Any, cache: HashCache | None = None) -> SourceScan:
    """Hash every source row (reusing remembered runs), sorted by key."""
    table = source.table
    keys: Any = array("q") if table.key_kind == "int" else list()
    hashes = array("q")
    unreadable: list[dict[str, Any]] = []
    unreadable_pks: set[Any] = set()
    hash_of = source.row_hasher()
    cache = cache or HashCache(table, enabled=False)
    key_of = table.key_of if table.composite else operator.itemgetter(table.pk_index)
    count = 0
    for run in chunks(source.raw(), hashcache.CACHE_ROWS):
        digest = cache.digest(run) if cache.enabled else ""
        remembered = cache.known.get(digest)
        if remembered is not None and len(remembered) == 8 * len(run):
            keys.extend(map(key_of, run))
            hashes.frombytes(remembered)
            cache.used.add(digest)
            cache.reused_rows += len(run)
        else:
            clean = True
            start = len(hashes)
            for raw in run:
                try:
                    pk, row_hash = hash_of(raw)
                    if pk is None or (table.composite and None in pk):
                        raise ConversionError(table.name, pk, table.pk_column, None,
                                              "a NULL primary key cannot be copied")
                except ConversionError as exc:
                    unreadable.append(exc.as_record())
                    unreadable_pks.add(table.key_of(raw))
                    clean = False
                    continue
                keys.append(pk)
                hashes.append(row_hash)
            if cache.enabled and clean:
                cache.new[digest] = (len(run), hashes[start:].tobytes())
        previous, count = count, count + len(run)
        if count // 100_000 > previous // 100_000:
            progress("source_rows", {"table": table.name, "rows": count})
    if not all(map(operator.le, keys, itertools.islice(keys, 1, None))):
        # SQLite's BINARY order is code-point order, like Python's; resort only if a type mix broke it.
        order = sorted(range(len(keys)), key=keys.__getitem__)
        keys = array("q", (keys[i] for i in order)) if table.key_kind == "int" else [keys[i] for i in order]
        hashes = array("q", (hashes[i] for i in order))
    return SourceScan(keys, hashes, unreadable, unreadable_pks)


class Bisector:
    """Compare key-range segments by (count, sum of hashes) and split the differing ones."""

    def __init__(self, table: Table, target: TargetSide, scan: SourceScan, progress: Any) -> None:
        self.table = table
        self.target = target
        self.keys = scan.keys
        self.hashes = scan.hashes
        self.skip = scan.unreadable_pks
        self.progress = progress
        self.diff = RowDiff()
        self.target_count = 0

    def run(self, boundaries: list[Any], segments: dict[int, tuple[int, int]]) -> RowDiff:
        """Compare the top-level segments cut at ``boundaries`` (the target's sums given), then bisect."""
        self.target_count = sum(count for count, _ in segments.values())
        self._compare_segments(None, None, boundaries, segments, depth=0)
        return self.diff

    def _index(self, key: Any, default: int) -> int:
        return default if key is None else bisect.bisect_left(self.keys, key)

    def _compare_segments(self, lower: Any, upper: Any, boundaries: list[Any],
                          segments: dict[int, tuple[int, int]], depth: int) -> None:
        edges = [lower, *boundaries, upper]
        for bucket in range(len(edges) - 1):
            self._compare(edges[bucket], edges[bucket + 1], *segments.get(bucket, (0, 0)), depth=depth)

    def _compare(self, lower: Any, upper: Any, target_count: int, target_sum: int, depth: int) -> None:
        lo = self._index(lower, 0)
        hi = self._index(upper, len(self.keys))
        if (hi - lo, sum(self.hashes[lo:hi])) == (target_count, target_sum):
            return
        self.progress("segment", {"table": self.table.name, "depth": depth, "lower": lower, "upper": upper,
                                  "source_rows": hi - lo, "target_rows": target_count})
        if target_count == 0:
            for i in range(lo, hi):
                self.diff.missing[self.keys[i]] = (self.hashes[i], None)
            return
        if hi - lo <= max(1, LEAF_ROWS) or (target_count <= LEAF_ROWS and hi - lo <= LEAF_ROWS):
            self._compare_rows(lo, hi, self.target.hashes(lower, upper))
            return
        step = -(-(hi - lo) // FANOUT)
        boundaries = [self.keys[i] for i in range(lo + step, hi, step)]
        segments = self.target.segments(lower, upper, boundaries)
        self._compare_segments(lower, upper, boundaries, segments, depth + 1)

    def _compare_rows(self, lo: int, hi: int, target: dict[Any, int]) -> None:
        for i in range(lo, hi):
            key, source_hash = self.keys[i], self.hashes[i]
            target_hash = target.pop(key, None)
            if target_hash is None:
                self.diff.missing[key] = (source_hash, None)
            elif target_hash != source_hash:
                self.diff.changed[key] = (source_hash, target_hash)
        for key, target_hash in target.items():
            if key not in self.skip:
                self.diff.extra[key] = (None, target_hash)
