"""`cutover status|advance|rollback` and `replay_outbox`: thin commands, exit codes, JSON output."""
from __future__ import annotations

import datetime as dt
import io
import json

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from core.models.menu import MenuCategory
from migration import phase
from migration.management.commands.cutover import Command
from migration.models import OutboxRecord, PhaseChange
from migration.phase import Phase, PhaseState
from tests.support.cutover import BOTH, cutover_state, set_phase  # noqa: F401

pytestmark = [pytest.mark.django_db(databases=BOTH, transaction=True), pytest.mark.usefixtures("cutover_state")]


def _run(*args: str, interactive: bool = False) -> str:
    out = io.StringIO()
    options = {} if args[0] == "status" else {"interactive": interactive}
    call_command("cutover", *args, stdout=out, stderr=io.StringIO(), **options)
    return out.getvalue()


class _Terminal(io.StringIO):
    """A stdin that says it is a terminal, holding the operator's answer."""

    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize(("answer", "moved"), [("yes\n", True), ("no\n", False), ("\n", False)])
def test_cutover_advance_asks_first(monkeypatch: pytest.MonkeyPatch, answer: str, moved: bool) -> None:
    monkeypatch.setattr("sys.stdin", _Terminal(answer))
    if moved:
        _run("advance", interactive=True)
    else:
        with pytest.raises(CommandError, match="cancelled; the phase is unchanged"):
            _run("advance", interactive=True)
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE if moved else Phase.SQLITE)


def test_cutover_rollback_without_a_terminal_refuses_and_names_no_input(monkeypatch: pytest.MonkeyPatch) -> None:
    set_phase(Phase.DUAL_WRITE)
    monkeypatch.setattr("sys.stdin", io.StringIO("yes\n"))  # piped: not a terminal
    with pytest.raises(CommandError, match="roll the cutover back from 1 dual-write, one phase back.*--no-input") as refused:
        _run("rollback", interactive=True)
    assert refused.value.returncode == 2
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)


def test_cutover_options_all_have_help() -> None:
    for action in ("status", "advance", "rollback"):
        parser = Command().create_parser("manage.py", "cutover")
        sub = next(a for a in parser._actions if a.dest == "action").choices[action]
        for option in sub._actions:
            assert option.help, f"cutover {action} {option.option_strings} has no help text"


def test_cutover_status_json_shows_phase_flags_outbox_validation_and_latency() -> None:
    set_phase(Phase.DUAL_WRITE)
    MenuCategory.objects.create(name="x", name_tr="x")
    MenuCategory.objects.using("sqlite").count()
    report = json.loads(_run("status", "--json"))
    assert report["state"] == {"phase": 1, "name": "dual-write", "percent": 0.0}
    assert report["flags"]["dual_write"] is True
    assert report["outbox"] == {"sqlite": 0, "default": 0}
    assert report["validation"]["ok"] is False and "validate" in report["validation"]["detail"]
    assert report["latency"]["sqlite"]["write"]["count"] >= 2
    assert report["latency"]["default"]["write"]["p95_ms"] > 0
    assert report["last_change"]["via"] == "waffle"


def test_cutover_status_text() -> None:
    out = _run("status")
    assert out.startswith("Phase 0 sqlite")
    assert "outbox: sqlite: 0, default: 0" in out


def test_cutover_status_check_fails_on_old_outbox_records() -> None:
    set_phase(Phase.DUAL_WRITE)
    OutboxRecord.objects.using("sqlite").create(
        model_label="core.MenuCategory", pk_value="1", operation="dirty",
        created_at=timezone.now() - dt.timedelta(minutes=10),
    )
    with pytest.raises(CommandError, match="outbox holds records") as failed:
        _run("status", "--check")
    assert failed.value.returncode == 1
    _run("status", "--check", "--max-age", "3600")


def test_cutover_advance_refused_by_gate_exits_1() -> None:
    set_phase(Phase.DUAL_WRITE)
    with pytest.raises(CommandError, match="copy") as refused:
        _run("advance")
    assert refused.value.returncode == 1
    assert phase.current_state_fresh() == PhaseState(Phase.DUAL_WRITE)


def test_cutover_advance_and_rollback() -> None:
    out = _run("advance")
    assert "Cutover: 0 sqlite -> 1 dual-write" in out and "SQLite backup" in out
    result = json.loads(_run("advance", "--percent", "30", "--force", "--json"))
    assert result["to"] == {"phase": 2, "name": "read-rollout", "percent": 30.0} and result["forced"]
    out = _run("rollback", "--to", "0")
    assert "2 read-rollout 30% -> 0 sqlite" in out
    assert [(c.from_phase, c.to_phase, c.forced) for c in PhaseChange.objects.order_by("at")] == [
        (0, 1, False), (1, 2, True), (2, 0, False)
    ]


@pytest.mark.parametrize(
    "args",
    [("advance", "--percent", "30"), ("rollback",), ("rollback", "--to", "3"), ("advance", "--percent", "0")],
)
def test_cutover_bad_invocations_exit_2(args: tuple[str, ...]) -> None:
    with pytest.raises(CommandError) as failed:
        _run(*args)
    assert failed.value.returncode == 2


def test_replay_outbox_drains_and_reports() -> None:
    set_phase(Phase.DUAL_WRITE)
    category = MenuCategory.objects.create(name="x", name_tr="x")
    OutboxRecord.objects.using("sqlite").create(model_label="core.MenuCategory", pk_value=str(category.pk), operation="dirty")
    out = io.StringIO()
    call_command("replay_outbox", "--json", stdout=out)
    result = json.loads(out.getvalue())
    assert result["applied"] == 1 and result["remaining"] == {"sqlite": 0, "default": 0}


def test_replay_outbox_exits_1_when_records_stay_pending() -> None:
    set_phase(Phase.DUAL_WRITE)
    OutboxRecord.objects.using("sqlite").create(model_label="core.NoSuchModel", pk_value="1", operation="dirty")
    with pytest.raises(CommandError, match="still pending") as failed:
        call_command("replay_outbox", stdout=io.StringIO(), stderr=io.StringIO())
    assert failed.value.returncode == 1
    assert OutboxRecord.objects.using("sqlite").get().attempts == 1


@pytest.mark.parametrize("model_name", ["phasechange", "outboxrecord", "latencysample", "shadowmismatch"])
def test_cutover_admin_pages_render(model_name: str, admin_client: object) -> None:
    from django.urls import reverse

    set_phase(Phase.DUAL_WRITE)
    MenuCategory.objects.create(name="x", name_tr="x")
    response = admin_client.get(reverse(f"admin:migration_{model_name}_changelist"))  # type: ignore[attr-defined]
    assert response.status_code == 200
