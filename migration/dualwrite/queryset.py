"""The mirrored model, queryset and manager: every ORM write of a migrated model leaves an outbox record."""
from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, ClassVar, Self, TypeAlias, TypeVar

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
    through_switch,
)
from migration.dualwrite.records import OperationKind, enqueue

logger = logging.getLogger("migration.dualwrite")

# --- The mirrored model, queryset and manager -----------------------------------------------

if TYPE_CHECKING:
    # The checker sees the QuerySet the mixin is combined with (generic in the stubs' model type);
    # at runtime it stays a plain mixin so it can go in front of any QuerySet subclass.
    from django.db.models.query import _Model

    _QuerySetBase: TypeAlias = models.QuerySet
else:
    _QuerySetBase = object

_Method = TypeVar("_Method", bound=Callable[..., Any])


def _django_flags(**flags: bool) -> Callable[[_Method], _Method]:
    """Set the attributes Django reads off QuerySet and Model methods (``alters_data``, ``queryset_only``)."""

    def mark(method: _Method) -> _Method:
        for name, value in flags.items():
            setattr(method, name, value)
        return method

    return mark


class MirroredQuerySetMixin(_QuerySetBase):
    """QuerySet behaviour of migrated models: mirrored writes, read fallback and shadow reads.

    Mix it in front of any QuerySet subclass: ``class Q(MirroredQuerySetMixin, MyQuerySet)``.
    """

    _db: str | None
    _for_write: bool

    def _write_alias(self) -> str:
        self._for_write = True
        return self.db

    @_django_flags(alters_data=True)
    def update(self, **kwargs: Any) -> int:
        def write() -> int:
            with flags.pinned():
                return self._mirrored_update(**kwargs)

        return through_switch(write, lambda: self.db)

    def _mirrored_update(self, **kwargs: Any) -> int:
        using = self._write_alias()
        if not _mirroring_into(using, self.model):
            return super().update(**kwargs)
        with transaction.atomic(using=using):
            # The pks are taken first, inside the same transaction, so the outbox names exactly the
            # rows this update changed; the update is narrowed to them.
            pks = list(self.values_list("pk", flat=True))
            rows = 0
            for start in range(0, len(pks), PK_CHUNK):
                chunk = self.filter(pk__in=pks[start:start + PK_CHUNK])
                rows += models.QuerySet.update(chunk, **kwargs)
            enqueue(self.model, pks, using)
        return rows

    @_django_flags(alters_data=True)
    def bulk_create(self, objs: Iterable[_Model], *args: Any, **kwargs: Any) -> list[_Model]:
        objs = list(objs)
        return through_switch(lambda: self._bulk_create(objs, *args, **kwargs), lambda: self.db)

    def _bulk_create(self, objs: list[_Model], *args: Any, **kwargs: Any) -> list[_Model]:
        with flags.pinned():
            using = self._write_alias()
            if not _mirroring_into(using, self.model):
                return super().bulk_create(objs, *args, **kwargs)
            try:
                return self._mirrored_bulk_create(using, objs, *args, **kwargs)
            except _PrimaryMoved:
                pass
        # The primary moved while this process was not looking (the fence read the new phase): follow it.
        return self.using(router.db_for_write(self.model)).bulk_create(objs, *args, **kwargs)

    @_django_flags(alters_data=True, queryset_only=True)
    def delete(self) -> tuple[int, dict[str, int]]:
        def write() -> tuple[int, dict[str, int]]:
            with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
                return super(MirroredQuerySetMixin, self).delete()

        return through_switch(write, lambda: self.db)

    # Each of these runs its own transaction (and routes before Model.save decides on mirroring):
    # a fence's refusal inside it is retried whole, on the phase read afresh.

    def create(self, **kwargs: Any) -> _Model:
        def write() -> _Model:
            with flags.pinned():
                return super(MirroredQuerySetMixin, self).create(**kwargs)

        return through_switch(write, lambda: self.db)

    @_django_flags(alters_data=True)
    def bulk_update(self, objs: Iterable[_Model], fields: Iterable[str], batch_size: int | None = None) -> int:
        objs, fields = list(objs), list(fields)

        def write() -> int:
            with flags.pinned():
                return super(MirroredQuerySetMixin, self).bulk_update(objs, fields, batch_size)

        return through_switch(write, lambda: self.db)

    def get_or_create(self, defaults: Any = None, **kwargs: Any) -> tuple[_Model, bool]:
        def write() -> tuple[_Model, bool]:
            with flags.pinned():
                return super(MirroredQuerySetMixin, self).get_or_create(defaults, **kwargs)

        return through_switch(write, lambda: self.db)

    def update_or_create(self, defaults: Any = None, create_defaults: Any = None, **kwargs: Any) -> tuple[_Model, bool]:
        def write() -> tuple[_Model, bool]:
            with flags.pinned():
                return super(MirroredQuerySetMixin, self).update_or_create(defaults, create_defaults, **kwargs)

        return through_switch(write, lambda: self.db)

    def _mirrored_bulk_create(self, using: str, objs: list[_Model], *args: Any, **kwargs: Any) -> list[_Model]:
        with transaction.atomic(using=using):
            if primary_moved(using):
                raise _PrimaryMoved
            created = super().bulk_create(objs, *args, **kwargs)
            pks = [obj.pk for obj in created if obj.pk is not None]
            unnamed = len(created) - len(pks)
            if unnamed:
                logger.error(
                    "bulk_create of %s on %s returned %d rows without a primary key; they are not "
                    "mirrored: call migration.dualwrite.mark_dirty(model, pks) for them",
                    self.model._meta.label, using, unnamed,
                )
            enqueue(self.model, pks, using)
        return created

    def _fetch_all(self) -> None:
        if self._result_cache is not None or self._db is not None or self._for_write:
            super()._fetch_all()
            return
        alias = self.db
        started = time.perf_counter()
        self._read_with_fallback(alias, lambda qs: super()._fetch_all())
        if self._db is None and flags.shadow_read_sampled():
            shadow.compare(self, alias, (time.perf_counter() - started) * 1000)

    def count(self) -> int:
        if self._result_cache is not None or self._db is not None:
            return super().count()
        return self._read_with_fallback(self.db, lambda qs: super().count())

    def exists(self) -> bool:
        if self._result_cache is not None or self._db is not None:
            return super().exists()
        return self._read_with_fallback(self.db, lambda qs: super().exists())

    def aggregate(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if self._db is not None:
            return super().aggregate(*args, **kwargs)
        return self._read_with_fallback(self.db, lambda qs: super().aggregate(*args, **kwargs))

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


class MirroredQuerySet(MirroredQuerySetMixin, models.QuerySet):
    """The QuerySet of migrated models."""


# Assigned at module level, where the stubs' plugin can see which QuerySet the manager proxies.
_MirroredManagerBase = models.Manager.from_queryset(MirroredQuerySet)


class MirroredManager(_MirroredManagerBase):
    """The default and base manager of migrated models."""


def mirrored_manager(queryset_class: type[models.QuerySet]) -> models.Manager:
    """A mirrored manager over ``queryset_class`` (a plain QuerySet subclass), for composition."""
    if issubclass(queryset_class, MirroredQuerySetMixin):
        return models.Manager.from_queryset(queryset_class)()
    combined = type(f"Mirrored{queryset_class.__name__}", (MirroredQuerySetMixin, queryset_class), {})
    return models.Manager.from_queryset(combined)()


class MirroredModel(models.Model):
    """Abstract base of migrated models: ``save()`` writes its outbox record in the same transaction."""

    objects: ClassVar[models.Manager[Self]] = MirroredManager()

    class Meta:
        abstract = True
        base_manager_name = "objects"

    @_django_flags(alters_data=True)
    def save(self, *args: Any, **kwargs: Any) -> None:
        # A retry after a fence routes afresh, when the write went to what this process took for the
        # primary (QuerySet.create names it); a write aimed at the other database stays there.
        asked = [kwargs.pop("using", None)]

        def routed() -> str:
            return asked[-1] or router.db_for_write(type(self), instance=self)

        def write() -> None:
            using = asked[-1]
            asked.append(None if using is None or using == phase.primary_alias() else using)
            self._save_on_primary(using, *args, **kwargs)

        through_switch(write, routed)

    def _save_on_primary(self, using: str | None, *args: Any, **kwargs: Any) -> None:
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

    @_django_flags(alters_data=True)
    def delete(self, *args: Any, **kwargs: Any) -> tuple[int, dict[str, int]]:
        def write() -> tuple[int, dict[str, int]]:
            with flags.pinned():  # the post_delete receiver decides on the phase the delete was routed by
                return super(MirroredModel, self).delete(*args, **kwargs)

        return through_switch(write, lambda: kwargs.get("using") or router.db_for_write(type(self), instance=self))


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
