"""What the console shows, read from the real databases and the engine's bookkeeping tables."""
from __future__ import annotations

import pytest

from core.models.auth import Membership, SecurityAuditLog
from migration import console
from migration.models import CopyCheckpoint
from tests.migration.factories import insert

BOTH = ["default", "sqlite"]


@pytest.mark.django_db(databases=BOTH)
def test_table_counts_counts_both_databases_and_names_absent_tables() -> None:
    for pk in (1, 2):
        insert("sqlite", "security_audit_logs", id=pk, action="a")
    insert("default", "security_audit_logs", id=1, action="a")

    audit, membership = console.table_counts([SecurityAuditLog, Membership])

    assert (audit.table, audit.source, audit.target, audit.equal) == ("security_audit_logs", 2, 1, False)
    assert (membership.source, membership.target, membership.equal) == (None, 0, True)


def test_databases_name_alias_vendor_and_role_only() -> None:
    assert console.databases() == [
        console.Database("sqlite", "sqlite", "source"),
        console.Database("default", "postgresql", "target"),
    ]


def test_engine_module_missing_part_is_unavailable_with_its_name() -> None:
    missing = console.engine_module("no_such_part")

    assert missing == console.Unavailable("migration.no_such_part is not part of this installation")


@pytest.mark.django_db(databases=BOTH)
def test_copy_view_lists_every_migrated_table_with_its_checkpoint() -> None:
    CopyCheckpoint.objects.create(
        table="security_audit_logs", model_label="core.SecurityAuditLog", source_rows=10,
        copied_rows=4, rejected_rows=1, complete=False,
    )
    CopyCheckpoint.objects.create(
        table="memberships", model_label="core.Membership", source_rows=None, complete=True,
    )

    rows = {row.table: row for row in console.copy_view()}

    audit = rows["security_audit_logs"]
    assert (audit.status, audit.percent) == ("in progress", 50.0)
    assert rows["memberships"].status == "complete (absent in source)"
    assert rows["memberships"].percent == 100.0
    assert (rows["users"].status, rows["users"].percent) == ("not started", None)


@pytest.mark.django_db(databases=BOTH)
def test_snapshot_copy_summary_counts_states() -> None:
    CopyCheckpoint.objects.create(table="users", model_label="core.User", source_rows=0, complete=True)

    snapshot = console.snapshot()

    total = len(snapshot.sections["copy"])
    assert snapshot.copy_summary == f"1 of {total} tables complete, 0 in progress, {total - 1} not started"
    assert [row.table for row in snapshot.tables] == sorted(row.table for row in snapshot.tables)
