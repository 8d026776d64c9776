"""Row hashes remembered per run of raw source rows, so a later validation converts only what changed.

Converting every source value is most of a validation's cost; a run of rows whose raw bytes are
exactly those of a run hashed before (same digest, same fingerprint) reuses that run's hashes.
The target side is hashed afresh every time, so a difference on either side is still found: a
changed source row changes its run's digest, a changed target row its own hash.
"""
from __future__ import annotations

import hashlib
import inspect
import marshal
import platform
from pathlib import Path
from typing import Any

import django
from django.db import transaction

from migration import inventory
from migration.models import ValidationHashCache
from migration.values import canonical
from migration.verify import sqlite as source_side
from migration.verify.table import Table

CACHE_ROWS = 10_000  # consecutive source rows per remembered run of row hashes
CACHE_FORMAT = "1"  # bump when the row hash changes in a way the fingerprint cannot see

_module_digests: dict[str, str] = {}


def module_digest(module: Any) -> str:
    """MD5 of a module's source file, read once per process ("" for a module without one)."""
    name = getattr(module, "__name__", "")
    if name not in _module_digests:
        try:
            path = inspect.getsourcefile(module)
            data = Path(path).read_bytes() if path else b""
        except (TypeError, OSError):
            data = b""
        _module_digests[name] = hashlib.md5(data).hexdigest()
    return _module_digests[name]


def fingerprint(table: Table, readers: list[inventory.ColumnReader]) -> str:
    """What turns this table's raw source rows into row hashes, as one MD5.

    The columns and their kinds, each field's class and target type, the converters the source
    applies, and the code of the modules involved (the fields' modules, the canonical form, the
    source side's hashing, this module), with the Django and Python versions. Any change starts a
    new cache. ``readers`` are the source's column readers (:func:`inventory.column_readers`).
    """
    parts: list[str] = [CACHE_FORMAT, table.name, table.target.vendor, django.get_version(),
                        platform.python_version(), module_digest(canonical), module_digest(inventory),
                        module_digest(source_side), module_digest(inspect.getmodule(module_digest))]
    for fld, kind, reader in zip(table.fields, table.kinds, readers):
        parts += [inventory.column_of(fld), kind, f"{type(fld).__module__}.{type(fld).__qualname__}",
                  str(fld.db_type(table.target)), module_digest(inspect.getmodule(type(fld)))]
        parts += [getattr(c, "__qualname__", repr(type(c))) for c in reader.converters]
    return hashlib.md5("\x1f".join(parts).encode()).hexdigest()


class HashCache:
    """One table's remembered runs (:class:`~migration.models.ValidationHashCache`), and the new ones."""

    def __init__(self, table: Table, enabled: bool) -> None:
        self.table = table
        self.enabled = enabled
        self.fingerprint = ""
        self.known: dict[str, bytes] = {}
        if enabled:
            readers = inventory.column_readers(table.model, table.source)
            # A key read through converters is not the raw value the reused runs would give.
            self.enabled = not any(readers[i].converters for i in table.key_indexes)
        if self.enabled:
            self.fingerprint = fingerprint(table, readers)
            entries = ValidationHashCache.objects.using(table.target.alias).filter(
                table=table.name, fingerprint=self.fingerprint).values_list("digest", "hashes")
            self.known = {digest: bytes(hashes) for digest, hashes in entries}
        self.used: set[str] = set()
        self.new: dict[str, tuple[int, bytes]] = {}
        self.reused_rows = 0

    @staticmethod
    def digest(run: list[tuple[Any, ...]]) -> str:
        # marshal version 2 writes no back-references, so equal rows always give equal bytes.
        return hashlib.md5(marshal.dumps(run, 2)).hexdigest()

    def save(self) -> None:
        """Store the runs hashed now and forget those this table no longer has."""
        if not self.enabled:
            return
        alias = self.table.target.alias
        with transaction.atomic(using=alias):
            ValidationHashCache.objects.using(alias).filter(table=self.table.name).exclude(
                fingerprint=self.fingerprint, digest__in=list(self.used | set(self.new))).delete()
            ValidationHashCache.objects.using(alias).bulk_create(
                [ValidationHashCache(table=self.table.name, fingerprint=self.fingerprint, digest=digest,
                                     rows=rows, hashes=hashes) for digest, (rows, hashes) in self.new.items()],
                ignore_conflicts=True, batch_size=100,
            )
