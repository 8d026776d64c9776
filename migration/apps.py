"""App configuration for the cutover engine: connects its signals and system checks."""
from __future__ import annotations

import atexit
import logging
from typing import Any

from django.apps import AppConfig

logger = logging.getLogger("migration.flags")


class MigrationConfig(AppConfig):
    name = "migration"
    verbose_name = "Cutover"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created
        from django.db.models.signals import post_delete, post_save, pre_save
        from waffle import get_waffle_flag_model, get_waffle_sample_model, get_waffle_switch_model

        from migration import checks, dualwrite, metrics  # noqa: F401 - checks register on import

        dualwrite.connect_signals()
        atexit.register(metrics.flush_at_exit)
        atexit.register(dualwrite.flush_at_exit)
        connection_created.connect(metrics.install, dispatch_uid="migration.metrics.install")
        for model in (get_waffle_switch_model(), get_waffle_flag_model(), get_waffle_sample_model()):
            pre_save.connect(_before_flag_change, sender=model, dispatch_uid=f"migration.flags.pre:{model._meta.label}")
            post_save.connect(_after_flag_change, sender=model, dispatch_uid=f"migration.flags.post:{model._meta.label}")
            post_delete.connect(_after_flag_change, sender=model, dispatch_uid=f"migration.flags.del:{model._meta.label}")


def _before_flag_change(sender: Any, instance: Any, using: str, raw: bool = False, **kwargs: Any) -> None:
    """Remember the stored phase before a cutover switch or flag changes (for the audit)."""
    from migration import flags

    if raw or not flags.is_cutover_name(instance.name):
        return
    instance._cutover_before = flags.read_uncached(using)


def _after_flag_change(sender: Any, instance: Any, using: str, raw: bool = False, **kwargs: Any) -> None:
    """Audit a change made outside `cutover`, and drop this process's memo now and after commit."""
    from django.db import transaction

    from migration import flags, phase

    if raw or not flags.is_cutover_name(instance.name):
        return
    flags.forget()
    transaction.on_commit(flags.forget, using=using)
    before = getattr(instance, "_cutover_before", None)
    if before is None:
        # A delete, or a save the pre_save hook did not see: the "before" is this process's memo.
        before = flags.state()
    after = flags.read_uncached(using)
    phase.audit_external_change(before, after, using)
    if before != after and not phase.changing.get():
        # The file's copy of the phase, the capture triggers and the fences follow the switches,
        # whoever changed them: read again at commit, so the last of several saves writes the end state.
        transaction.on_commit(lambda: _follow_switches(using), using=using)


def _follow_switches(using: str) -> None:
    from migration import flags, phase, transitions

    now = flags.read_uncached(using)
    try:
        transitions.sync_capture(phase.state_from(now), now)
    except Exception:  # the switches changed; say loudly that the file did not follow
        logger.exception("the cutover switches changed but the SQLite file's copy, capture triggers or "
                         "fences could not follow; run `cutover status`")
