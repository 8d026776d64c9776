"""The mirrored model, queryset and manager: every ORM write of a migrated model leaves an outbox record."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from django.db import connections, models, router, transaction
from django.db.models.signals import post_delete

from migration import breaker, flags, inventory, phase
from migration.db import discard_broken_connection
from migration.dualwrite import shadow
from migration.dualwrite.apply import applying
from migration.dualwrite.pairs import (
    CONNECTION_ERRORS,
    PK_CHUNK,
    _mirroring_into,
    _PrimaryMoved,
    primary_moved,
)
from migration.dualwrite.records import OperationKind, enqueue

logger = logging.getLogger("migration.dualwrite")

# --- The mirrored model, queryset and manager -----------------------------------------------


class MirroredQuerySetMixin:
    """QuerySet behaviour of migrated models: mirrored writes, read fallback and shadow reads.

    Mix it in front of any QuerySet subclass: ``class Q(MirroredQuerySetMixin, MyQuerySet)``.
    """

    model: type[models.Model]
    _db: str | None
    _for_write: bool
    _result_cache: list[Any] | None

    def _write_alias(self) -> str:
        self._for_write = True
        return self.db  # type: ignore[attr-defined,no-any-return]

    def update(self, **kwargs: Any) -> int:
        with flags.pinned():
            return self._mirrored_update(**kwargs)

    update.alters_data = True  # type: ignore[attr-defined]

    def _mirrored_update(self, **kwargs: Any) -> int:
        using = self._write_alias()
        if not _mirroring_into(using, self.model):
            return super().update(**kwargs)  # type: ignore[misc,no-any-return]
        with transaction.atomic(using=using):
            # The pks are taken first, inside the same transaction, so the outbox names exactly the
            # rows this update changed; the update is narrowed to them.
            pks = list(self.values_list("pk", flat=True))  # type: ignore[attr-defined]
            rows = 0
            for start in range(0, len(pks), PK_CHUNK):
                chunk = self.filter(pk__in=pks[start:start + PK_CHUNK])  # type: ignore[attr-defined]
                rows += models.QuerySet.update(chunk, **kwargs)
            enqueue(self.model, pks, using)
        return rows

    def bulk_create(self, objs: Iterable[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        objs = list(objs)
        with flags.pinned():
            using = self._write_alias()
            if not _mirroring_into(using, self.model):
                return super().bulk_create(objs, *args, **kwargs)  # type: ignore[misc,no-any-return]
            try:
                return self._mirrored_bulk_create(using, objs, *args, **kwargs)
            except _PrimaryMoved:
                pass
        # The primary moved while this process was not looking (the fence read the new phase): follow it.
        return self.using(router.db_for_write(self.model)).bulk_create(objs, *args, **kwargs)  # type: ignore[attr-defined,no-any-return]

    bulk_create.alters_data = True  # type: ignore[attr-defined]

    def delete(self) -> tuple[int, dict[str, int]]:
        with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
            return super().delete()  # type: ignore[misc,no-any-return]

    delete.alters_data = True  # type: ignore[attr-defined]
    delete.queryset_only = True  # type: ignore[attr-defined]

    def create(self, **kwargs: Any) -> models.Model:
        with flags.pinned():  # QuerySet.create routes before Model.save decides on mirroring
            return super().create(**kwargs)  # type: ignore[misc,no-any-return]

    def bulk_update(self, objs: Iterable[models.Model], fields: Sequence[str], batch_size: int | None = None) -> int:
        with flags.pinned():
            return super().bulk_update(objs, fields, batch_size)  # type: ignore[misc,no-any-return]

    bulk_update.alters_data = True  # type: ignore[attr-defined]

    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[models.Model, bool]:
        with flags.pinned():
            return super().get_or_create(defaults, **kwargs)  # type: ignore[misc,no-any-return]

    def update_or_create(self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any) -> tuple[models.Model, bool]:
        with flags.pinned():
            return super().update_or_create(defaults, create_defaults, **kwargs)  # type: ignore[misc,no-any-return]

    def _mirrored_bulk_create(self, using: str, objs: list[models.Model], *args: Any, **kwargs: Any) -> list[models.Model]:
        with transaction.atomic(using=using):
            if primary_moved(using):
                raise _PrimaryMoved
            created = super().bulk_create(objs, *args, **kwargs)  # type: ignore[misc]
            pks = [obj.pk for obj in created if obj.pk is not None]
            unnamed = len(created) - len(pks)
            if unnamed:
                logger.error(
                    "bulk_create of %s on %s returned %d rows without a primary key; they are not "
                    "mirrored: call migration.dualwrite.mark_dirty(model, pks) for them",
                    self.model._meta.label, using, unnamed,
                )
            enqueue(self.model, pks, using)
        return created  # type: ignore[no-any-return]

    def _fetch_all(self) -> None:
        if self._result_cache is not None or self._db is not None or self._for_write:
            super()._fetch_all()  # type: ignore[misc]
            return
        alias = self.db  # type: ignore[attr-defined]
        started = time.perf_counter()
        self._read_with_fallback(alias, lambda qs: super()._fetch_all())
        if self._db is None and flags.shadow_read_sampled():
            shadow.compare(self, alias, (time.perf_counter() - started) * 1000)

    def count(self) -> int:
        if self._result_cache is not None or self._db is not None:
            return super().count()  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db, lambda qs: super().count()  # type: ignore[attr-defined]
        )

    def exists(self) -> bool:
        if self._result_cache is not None or self._db is not None:
            return super().exists()  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db, lambda qs: super().exists()  # type: ignore[attr-defined]
        )

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self._db is not None:
            return super().aggregate(*args, **kwargs)  # type: ignore[misc,no-any-return]
        return self._read_with_fallback(  # type: ignore[no-any-return]
            self.db,  # type: ignore[attr-defined]
            lambda qs: super().aggregate(*args, **kwargs),  # type: ignore[misc]
        )

    def _read_with_fallback(self, alias: str, read: Callable[[Any], Any]) -> Any:
        """Run a read routed to ``alias``; if that is the secondary and it is down, read the primary."""
        try:
            return read(self)
        except CONNECTION_ERRORS as exc:
            primary = phase.primary_alias()
            if alias == primary or connections[alias].in_atomic_block:
                raise
            breaker.trip(alias, exc)
            discard_broken_connection(alias)
            logger.warning("read of %s on %s failed (%s); reading %s", self.model._meta.label, alias, exc, primary)
            self._db = primary
            return read(self)


class MirroredQuerySet(MirroredQuerySetMixin, models.QuerySet):  # type: ignore[misc]
    """The QuerySet of migrated models."""


class MirroredManager(models.Manager.from_queryset(MirroredQuerySet)):  # type: ignore[misc]
    """The default and base manager of migrated models."""


def mirrored_manager(queryset_class: type[models.QuerySet]) -> models.Manager:
    """A mirrored manager over ``queryset_class`` (a plain QuerySet subclass), for composition."""
    if issubclass(queryset_class, MirroredQuerySetMixin):
        return models.Manager.from_queryset(queryset_class)()
    combined = type(f"Mirrored{queryset_class.__name__}", (MirroredQuerySetMixin, queryset_class), {})
    return models.Manager.from_queryset(combined)()


class MirroredModel(models.Model):
    """Abstract base of migrated models: ``save()`` writes its outbox record in the same transaction."""

    objects = MirroredManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    def save(self, *args: Any, **kwargs: Any) -> None:
        using = kwargs.pop("using", None)
        for _attempt in range(3):
            # One phase for the routing and the mirroring; after a move, the fence's fresh reading.
            with flags.pinned():
                using = using or router.db_for_write(type(self), instance=self)
                if not _mirroring_into(using, type(self)):
                    super().save(*args, using=using, **kwargs)
                    return
                try:
                    with transaction.atomic(using=using):
                        # A write on the primary (routed, or pinned to it as QuerySet.create does)
                        # follows the primary if it moved while this process was not looking.
                        if primary_moved(using):
                            raise _PrimaryMoved
                        super().save(*args, using=using, **kwargs)
                        enqueue(type(self), [self.pk], using)
                    return
                except _PrimaryMoved:
                    using = None
        raise RuntimeError(f"the primary database kept moving while saving {type(self)._meta.label}")

    save.alters_data = True  # type: ignore[attr-defined]

    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
            return super().delete(*args, **kwargs)  # type: ignore[no-any-return]

    delete.alters_data = True  # type: ignore[attr-defined]


def on_post_delete(sender: type[models.Model], instance: models.Model, using: str, **kwargs: Any) -> None:
    """Record a deleted row (direct or cascaded); runs inside the deleting transaction."""
    if not applying.get() and _mirroring_into(using, sender):
        enqueue(sender, [instance.pk], using, OperationKind.DELETE)


def connect_signals() -> None:
    """Connect the delete receiver to every migrated model (not globally: that would slow all deletes)."""
    for model in inventory.migrated_models():
        post_delete.connect(
            on_post_delete, sender=model, weak=False, dispatch_uid=f"migration.dualwrite:{model._meta.label}"
        )
