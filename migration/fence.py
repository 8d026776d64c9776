"""The fence: a database that is not the primary refuses every write but the engine's own.

A switch of primary is safe only if no process can write the old primary once its outbox has been
drained. The fence is in the database, so it stops every writer, not just this engine's processes:

- **SQLite** (phase 3 and later): a ``BEFORE INSERT / UPDATE / DELETE`` trigger on every migrated
  table aborts the statement with a message that names the phase. The legacy Node.js application,
  the ``sqlite3`` shell and a Django process that has not yet seen the switch all get it. The
  engine's own writes (the applier, the reverse copy, a repair) pass it (:func:`passed`): a row in
  :data:`SQLITE_PASS` that exists only inside their write transaction, which the trigger's ``WHEN``
  clause looks for; the write lock keeps every other writer out meanwhile.
- **PostgreSQL** (phases 1 and 2, while SQLite is the primary): a ``BEFORE ... FOR EACH STATEMENT``
  trigger on every migrated table raises ``read_only_sql_transaction`` unless the transaction set
  ``cutover.writer = 'engine'`` (:func:`engine_writes`, which the applier and the copy do).

Every refusal starts with :data:`MARK`, so a writer can tell it from any other error
(:func:`is_fence_error`) and retry on the new primary once the switch is done.
"""
from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from django.db import connections, models, transaction
from django.db.backends.signals import connection_created

from migration.db import quote

MARK = "cutover fence:"
SQLITE_PREFIX = "cutover_fence_"
PG_TRIGGER = "cutover_fence"
PG_FUNCTION = "cutover_fence"
SETTING = "cutover.writer"
KINDS = ("insert", "update", "delete")


def is_fence_error(exc: BaseException) -> bool:
    """Is ``exc`` (or its cause) a fence's refusal of a write?"""
    seen: BaseException | None = exc
    while seen is not None:
        if MARK in str(seen):
            return True
        seen = seen.__cause__
    return False


def refusal(database: str, phase_label: str, primary: str) -> str:
    """The message a fenced database gives a writer."""
    return (
        f"{MARK} {database} is not the primary database (cutover phase {phase_label}); "
        f"writes go to {primary}. Retry after the switch, on the primary"
    )


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


# --- SQLite ---------------------------------------------------------------------------------


def sqlite_tables(alias: str) -> set[str]:
    """The tables of SQLite ``alias``."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        return {row[0] for row in cursor.fetchall()}


def sqlite_triggers(alias: str, prefix: str) -> set[str]:
    """The triggers of SQLite ``alias`` whose names start with ``prefix``."""
    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name LIKE ? ESCAPE '\\'",
                       [prefix.replace("_", "\\_") + "%"])
        return {row[0] for row in cursor.fetchall()}


def _sqlite_tables(alias: str) -> set[str]:
    return sqlite_tables(alias)


def _sqlite_fences(alias: str) -> set[str]:
    return sqlite_triggers(alias, SQLITE_PREFIX)


# The engine's own writes on a fenced SQLite file put a row here inside their write transaction
# and take it out before it commits; no other connection ever sees it (the write lock keeps other
# writers out, and readers see only committed rows), so for everyone else the fence stands.
SQLITE_PASS = "cutover_fence_pass"


def _raise_sqlite(alias: str, models_: Iterable[type[models.Model]], message: str) -> list[str]:
    present = _sqlite_tables(alias)
    done = []
    with connections[alias].cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {quote(SQLITE_PASS)} (id INTEGER PRIMARY KEY)")
        for model in models_:
            table = model._meta.db_table
            if table not in present:
                continue
            for kind in KINDS:
                name = quote(f"{SQLITE_PREFIX}{table}_{kind}")
                cursor.execute(
                    f"CREATE TRIGGER IF NOT EXISTS {name} BEFORE {kind.upper()} ON {quote(table)} "
                    f"WHEN NOT EXISTS (SELECT 1 FROM {quote(SQLITE_PASS)}) "
                    f"BEGIN SELECT RAISE(ABORT, {_text(message)}); END"
                )
            done.append(table)
    return done


def _lower_sqlite(alias: str) -> int:
    names = _sqlite_fences(alias)
    with connections[alias].cursor() as cursor:
        for name in sorted(names):
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote(name)}")
    return len(names)


# --- PostgreSQL -----------------------------------------------------------------------------

_FUNCTION_SQL = f"""
CREATE OR REPLACE FUNCTION {PG_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF coalesce(current_setting('{SETTING}', true), '') = 'engine' THEN
        RETURN NULL;
    END IF;
    RAISE EXCEPTION USING ERRCODE = 'read_only_sql_transaction', MESSAGE = TG_ARGV[0];
END
$$
"""


def _pg_tables(alias: str) -> set[str]:
    return set(connections[alias].introspection.table_names())


def _pg_fenced_tables(alias: str) -> set[str]:
    with connections[alias].cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname = %s AND pg_table_is_visible(c.oid)",
            [PG_TRIGGER],
        )
        return {row[0] for row in cursor.fetchall()}


def _raise_postgres(alias: str, models_: Iterable[type[models.Model]], message: str) -> list[str]:
    present, fenced = _pg_tables(alias), _pg_fenced_tables(alias)
    done = []
    with connections[alias].cursor() as cursor:
        cursor.execute(_FUNCTION_SQL)
        for model in models_:
            table = model._meta.db_table
            if table not in present:
                continue
            if table not in fenced:
                # Waits for every open transaction that wrote the table (SHARE ROW EXCLUSIVE), so
                # once the fence stands no earlier write of the table is still uncommitted.
                cursor.execute(
                    f"CREATE TRIGGER {quote(PG_TRIGGER)} BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE "
                    f"ON {quote(table)} FOR EACH STATEMENT EXECUTE FUNCTION {PG_FUNCTION}({_text(message)})"
                )
            done.append(table)
    return done


def _lower_postgres(alias: str) -> int:
    fenced = _pg_fenced_tables(alias)
    with connections[alias].cursor() as cursor:
        for table in sorted(fenced):
            cursor.execute(f"DROP TRIGGER IF EXISTS {quote(PG_TRIGGER)} ON {quote(table)}")
    return len(fenced)


# --- Both -----------------------------------------------------------------------------------


def raise_fence(alias: str, models_: Iterable[type[models.Model]], message: str) -> list[str]:
    """Fence every migrated table on ``alias`` (in the caller's transaction, if any); the tables."""
    vendor = connections[alias].vendor
    with transaction.atomic(using=alias):
        if vendor == "sqlite":
            return _raise_sqlite(alias, models_, message)
        if vendor == "postgresql":
            return _raise_postgres(alias, models_, message)
    return []


def lower_fence(alias: str) -> int:
    """Remove the fence from ``alias`` (in the caller's transaction, if any); how many triggers went."""
    vendor = connections[alias].vendor
    with transaction.atomic(using=alias):
        if vendor == "sqlite":
            return _lower_sqlite(alias)
        if vendor == "postgresql":
            return _lower_postgres(alias)
    return 0


def fenced_tables(alias: str) -> list[str]:
    """The tables on ``alias`` that refuse writes now."""
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        return sorted({name[len(SQLITE_PREFIX):].rsplit("_", 1)[0] for name in _sqlite_fences(alias)})
    if vendor == "postgresql":
        return sorted(_pg_fenced_tables(alias))
    return []


def gaps(alias: str, models_: Iterable[type[models.Model]]) -> list[str]:
    """Migrated tables present on ``alias`` that lack their fence (a table rebuilt by a schema change)."""
    vendor = connections[alias].vendor
    if vendor == "sqlite":
        present, names = _sqlite_tables(alias), _sqlite_fences(alias)
        open_for_all = False
        if SQLITE_PASS in present:
            with connections[alias].cursor() as cursor:
                cursor.execute(f"SELECT count(*) FROM {quote(SQLITE_PASS)}")
                open_for_all = cursor.fetchone()[0] > 0  # a pass left committed lets everyone through
        return sorted(
            m._meta.db_table for m in models_ if m._meta.db_table in present
            and (open_for_all or not all(f"{SQLITE_PREFIX}{m._meta.db_table}_{kind}" in names for kind in KINDS))
        )
    if vendor == "postgresql":
        present, fenced = _pg_tables(alias), _pg_fenced_tables(alias)
        return sorted(m._meta.db_table for m in models_ if m._meta.db_table in present and m._meta.db_table not in fenced)
    return []


def engine_writes(alias: str) -> None:
    """Inside a transaction on PostgreSQL ``alias``: its writes are the engine's, let through the fence."""
    if connections[alias].vendor == "postgresql":
        with connections[alias].cursor() as cursor:
            cursor.execute("SELECT set_config(%s, 'engine', true)", [SETTING])


@contextmanager
def passed(alias: str) -> Iterator[None]:
    """Inside the caller's write transaction on ``alias``: the block's writes pass the fence.

    On PostgreSQL the transaction says it is the engine (:func:`engine_writes`); on SQLite a row
    in :data:`SQLITE_PASS` stands for the block and is gone before the transaction commits.
    """
    connection = connections[alias]
    if connection.vendor == "postgresql":
        engine_writes(alias)
        yield
        return
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute(f"CREATE TABLE IF NOT EXISTS {quote(SQLITE_PASS)} (id INTEGER PRIMARY KEY)")
        cursor.execute(f"INSERT OR IGNORE INTO {quote(SQLITE_PASS)} (id) VALUES (1)")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DELETE FROM {quote(SQLITE_PASS)}")


@contextmanager
def lifted(alias: str) -> Iterator[None]:
    """A deliberate write on a fenced database (maintenance by an operator): one transaction on
    ``alias`` in which the fence lets the block's writes through; it stands again at commit."""
    with transaction.atomic(using=alias), passed(alias):
        yield


# --- A whole command writing as the engine ------------------------------------------------------

_sessions = 0


def _mark_connection(sender: object, connection: object, **kwargs: object) -> None:
    if _sessions and getattr(connection, "vendor", "") == "postgresql":
        with connection.cursor() as cursor:  # type: ignore[attr-defined]
            cursor.execute("SELECT set_config(%s, 'engine', false)", [SETTING])


connection_created.connect(_mark_connection, dispatch_uid="migration.dualwrite.fence")


@contextmanager
def engine_session() -> Iterator[None]:
    """For the length of the block, this process's PostgreSQL sessions write as the engine.

    The copy (``migrate_data``) runs beside live writes in phases 1 and 2, when PostgreSQL is
    fenced; its many transactions, on connections of several threads, pass the fence this way.
    """
    global _sessions
    _sessions += 1
    try:
        for connection in connections.all(initialized_only=True):
            if connection.vendor == "postgresql" and connection.connection is not None:
                with connection.cursor() as cursor:
                    cursor.execute("SELECT set_config(%s, 'engine', false)", [SETTING])
        yield
    finally:
        _sessions -= 1
        if not _sessions:
            for connection in connections.all(initialized_only=True):
                if connection.vendor == "postgresql" and connection.connection is not None:
                    try:
                        with connection.cursor() as cursor:
                            cursor.execute("RESET " + SETTING)
                    except Exception:  # noqa: BLE001 - a broken connection is closed anyway
                        connection.close()
