"""How the engine's commands answer a database they cannot use: a named message and exit code 2, no traceback."""
from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from django.core.management.base import CommandError
from django.db import DatabaseError

from migration import probe
from migration.exceptions import SourceUnusable, TargetUnusable

UNUSABLE = 2  # the exit code of unusable input (a bad invocation, in Django's terms)


@contextmanager
def unusable_input(*, source: str | None = None, target: str | None = None, then: str = "") -> Iterator[None]:
    """Turn a legacy file or a PostgreSQL that cannot be used into CommandError(returncode=2).

    ``then`` is appended to the message (what was, or was not, done). Other errors pass
    unchanged: a failure the probe cannot name is a bug, and keeps its traceback.
    """
    try:
        yield
    except (SourceUnusable, TargetUnusable) as exc:
        raise CommandError(_message(exc, then), returncode=UNUSABLE) from exc
    except (DatabaseError, sqlite3.Error, psycopg.Error) as exc:
        named = probe.named(exc, source_alias=source, target_alias=target)
        if named is None:
            raise
        raise CommandError(_message(named, then), returncode=UNUSABLE) from exc


def _message(exc: Exception, then: str) -> str:
    text = str(exc)
    return f"{text[0].upper()}{text[1:]}" + (f"; {then}" if then else "")
