"""Schema drift of the legacy file: refused by the copy, a validation difference, a failed gate, a startup warning.

Also the model code that closes it, and an excluded column that is then not reported.
"""
from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.test import override_settings

from core.models import Log
from migration import checks, drift, gates
from migration.models import CopyCheckpoint, CopyRun, ValidationRun
from tests.support.backfill import SOURCE, execute, insert, legacy_source

pytestmark = pytest.mark.django_db(databases=["default", SOURCE], transaction=True)

EXCLUDED = {"analysis_fts": "derived", "product_catalog_fts": "derived"}  # the project's own exclusions


def migrate_data(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("migrate_data", "--no-backup", *args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as info:
        migrate_data(*args)
    assert info.value.returncode == 1
    return str(info.value)


def validate(*args: str) -> tuple[int, str, str]:
    out = io.StringIO()
    try:
        call_command("validate_counts", "--recheck-delay", "0", *args, stdout=out, stderr=io.StringIO())
    except CommandError as exc:
        return exc.returncode, str(exc), out.getvalue()
    return 0, "", out.getvalue()


def nothing_written() -> bool:
    return not (CopyRun.objects.exists() or CopyCheckpoint.objects.exists() or Log.objects.using("default").exists())


def test_drift_an_added_column_with_data_stops_the_copy_before_it_writes(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}] * 3)
        execute(path, "ALTER TABLE logs ADD COLUMN debug_blob TEXT")
        execute(path, "UPDATE logs SET debug_blob = 'trace' WHERE id <= 2")
        message = refused()
        assert "logs.debug_blob: a column no field of core.Log covers (2 row(s) hold a value)" in message
        assert "describe_schema --drift" in message and "MIGRATION_EXCLUDE" in message
        assert nothing_written()
        dry = refused("--dry-run")
        assert "the copy would refuse: logs.debug_blob" in dry


def test_drift_an_added_table_with_rows_stops_the_copy(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        execute(path, "CREATE TABLE feature_flags (id INTEGER PRIMARY KEY, name TEXT, enabled BOOLEAN)")
        insert(path, "feature_flags", [{"name": "menu_v2", "enabled": 1}, {"name": "ocr", "enabled": 0}])
        message = refused()
        assert "feature_flags: a table no model covers (2 row(s))" in message
        assert nothing_written()
        # A copy of some tables leaves unrelated tables to the full runs: it goes ahead.
        migrate_data("--tables", "logs")


def test_drift_empty_new_tables_and_columns_are_warnings_and_the_copy_runs(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}])
        execute(path, "ALTER TABLE logs ADD COLUMN later TEXT")
        execute(path, "CREATE TABLE upcoming (id INTEGER PRIMARY KEY)")
        out, err = migrate_data()
        assert "Done: every source row is in the target." in out
        assert "schema drift (not copied, no data): logs.later" in err and "upcoming: a table no model covers (empty)" in err
        assert validate("--tables", "logs")[0] == 0


def test_drift_a_dropped_column_stops_the_copy_and_fails_validation(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m", "data": '{"a": 1}'}])
        migrate_data("--tables", "logs")
        execute(path, "ALTER TABLE logs DROP COLUMN data")
        assert "logs.data: core.Log stores this column, the source table has no such column" in refused("--tables", "logs")
        code, message, out = validate("--tables", "logs")
        assert code == 1 and "schema drift: logs.data" in message
        assert "logs  " in out  # the table is still counted
        assert not ValidationRun.objects.latest("started_at").clean


def test_drift_a_changed_declared_type_is_found_by_affinity(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}])
        # SQLite cannot change a column's type: the legacy app rebuilds the table, as here.
        sql = execute(path, "SELECT sql FROM sqlite_master WHERE name = 'logs'")[0][0]
        rebuilt = sql.replace("level TEXT", "level INTEGER").replace("created_at DATETIME", "created_at TIMESTAMP")
        assert rebuilt != sql
        execute(path, "ALTER TABLE logs RENAME TO logs_old")
        execute(path, rebuilt)
        execute(path, "INSERT INTO logs SELECT * FROM logs_old")
        execute(path, "DROP TABLE logs_old")
        found = {f.name: f for f in drift.detect().findings}
        assert found["logs.level"].describe() == (
            "logs.level: declared INTEGER in the source, TEXT in core.Log (the type affinity differs)")
        assert found["logs.level"].blocking
        # DATETIME and TIMESTAMP have the same affinity: the values are stored alike, a warning.
        assert found["logs.created_at"].kind == drift.TYPE and not found["logs.created_at"].blocking
        assert "logs.level: declared INTEGER" in refused()


def test_drift_an_excluded_column_is_not_reported(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}] * 2)
        execute(path, "ALTER TABLE logs ADD COLUMN debug_blob TEXT")
        execute(path, "UPDATE logs SET debug_blob = 'trace'")
        with override_settings(MIGRATION_EXCLUDE={**EXCLUDED, "logs.debug_blob": "debug dumps, never read"}):
            assert drift.detect().findings == []
            out, err = migrate_data()
            assert "Done: every source row is in the target." in out and "debug_blob" not in err
            assert validate()[0] == 0
            assert gates.schema_matches().ok
            assert checks.check_schema_drift() == []
            assert checks.check_exclusions() == []


def test_drift_found_after_the_copy_makes_validation_not_clean_and_blocks_the_gate(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}] * 2)
        migrate_data()
        assert validate()[0] == 0
        execute(path, "ALTER TABLE logs ADD COLUMN debug_blob TEXT")  # the legacy app's next migration
        execute(path, "UPDATE logs SET debug_blob = 'trace'")
        code, message, out = validate("--json")
        assert code == 1 and message.startswith("schema drift: logs.debug_blob")
        report = json.loads(out)
        assert not report["clean"] and report["drift"]["findings"][0]["name"] == "logs.debug_blob"
        assert [t["drift"][0]["kind"] for t in report["tables"] if t["table"] == "logs"] == ["column"]
        assert not ValidationRun.objects.latest("started_at").clean
        gate = gates.schema_matches()
        assert not gate.ok and "logs.debug_blob" in gate.detail
        warnings = checks.check_schema_drift()
        assert [w.id for w in warnings] == ["migration.W002"] and "logs.debug_blob" in warnings[0].msg


def test_drift_describe_schema_prints_the_legacy_aware_fields_to_add(tmp_path: Path) -> None:
    with legacy_source(tmp_path) as path:
        insert(path, "logs", [{"level": "info", "message": "m"}])
        execute(path, "ALTER TABLE logs ADD COLUMN seen_at INTEGER")
        execute(path, "UPDATE logs SET seen_at = 1717171717000")
        execute(path, "ALTER TABLE logs ADD COLUMN payload TEXT")
        execute(path, """UPDATE logs SET payload = '{"a":1}'""")
        execute(path, "CREATE TABLE feature_flags (id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, "
                      "enabled BOOLEAN, created_at DATETIME DEFAULT CURRENT_TIMESTAMP)")
        insert(path, "feature_flags", [{"name": "ocr", "enabled": 1, "created_at": "2024-01-01 10:00:00"}])
        out = io.StringIO()
        call_command("describe_schema", "--drift", stdout=out)
        code = out.getvalue()
        assert 'seen_at = LegacyDateTimeField(legacy_type="INTEGER", shapes=["epoch_ms"], null=True, blank=True)' in code
        assert "payload = LegacyJSONField(null=True, blank=True)" in code
        assert "# Add to core.Log (core/models/logs.py):" in code
        assert "from core.fields import LegacyBooleanField, LegacyDateTimeField, LegacyJSONField" in code
        assert "class FeatureFlags(LegacyModel):" in code and 'db_table = "feature_flags"' in code
        assert "id = models.BigAutoField(primary_key=True)" in code
        assert "name = models.TextField()" in code
        assert 'enabled = LegacyBooleanField(legacy_type="BOOLEAN", null=True, blank=True)' in code
        assert 'created_at = LegacyDateTimeField(legacy_type="DATETIME", null=True, blank=True)' in code
        model = code[code.index("class FeatureFlags"):]
        compile(code[code.index("from django.db"):code.index("\n\n#")] + "\n" + model, "drift.py", "exec")
        out = io.StringIO()
        call_command("describe_schema", "--drift", "--json", stdout=out)
        assert {f["name"] for f in json.loads(out.getvalue())["findings"]} == {
            "logs.seen_at", "logs.payload", "feature_flags"}


def test_drift_exclusions_without_a_reason_or_of_mapped_columns_are_errors() -> None:
    with override_settings(MIGRATION_EXCLUDE={"logs.debug_blob": "", "logs.message": "unused", "logs": "old"}):
        errors = checks.check_exclusions()
    assert [e.id for e in errors] == ["migration.E008"] * 3
    assert "gives no reason" in errors[0].msg
    assert "logs.message, which core.Log maps" in errors[1].msg
    assert "the table of core.Log" in errors[2].msg
