"""factory-boy recipes for legacy Procheff rows: the registry, the base factory and the fast path.

Every factory builds a plain ``dict`` of raw SQLite values, exactly as the Node.js app stored them
(README section 5 of the legacy facts): ``'YYYY-MM-DD HH:MM:SS'`` timestamps, ISO-Z strings,
date-only strings, epoch-millisecond integers, 0/1 flags, JSON text written like ``JSON.stringify``,
Turkish ``DD.MM.YYYY`` / ``'-'`` tender dates, e-mails in the user columns that hold e-mails, and the
app's id formats. Generated columns are never declared.

Randomness never comes from global state: each factory takes a :class:`Sampler` parameter ``s``
(a seeded ``random.Random`` plus Faker-built text pools shared by the whole database), the row
index ``i`` and the table's row count ``total``::

    world = World.build(seed=7, counts={"users": 3})
    LogFactory.build(s=Sampler(world, "logs"), i=0, total=1)

Building a dict through factory-boy costs ~30-80 µs, too slow for a million rows, so
:func:`row_recipe` reads a factory's declarations once and :meth:`RowRecipe.rows` evaluates the same
functions in the same order without factory-boy's per-row machinery. Both paths give identical
rows for the same sampler state (the tests hold them to it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, ClassVar

import factory
from factory.declarations import BaseDeclaration

from devtools.legacydb.shapes import Sampler

# ---------------------------------------------------------------------------------------------
# Factories. ``o.s`` is the Sampler, ``o.i`` the row index, ``o.total`` the table's row count;
# declarations may read other columns and parameters (``o.created_at``, ``o.ms``).

TABLE_FACTORIES: dict[str, type[factory.Factory]] = {}


def legacy_table(table: str) -> Callable[[type[factory.Factory]], type[factory.Factory]]:
    """Register a factory as the row recipe of one legacy table."""

    def register(cls: type[factory.Factory]) -> type[factory.Factory]:
        TABLE_FACTORIES[table] = cls
        return cls

    return register


L = factory.LazyAttribute


class LegacyRowFactory(factory.DictFactory):
    """A dict of raw SQLite values for one row; ``s``, ``i`` and ``total`` are parameters.

    ``ms`` (a parameter, never a column) is the row's instant in epoch ms: rows are spread over
    the app's life in id order. Seed tables override it with the moment the seed ran.
    """

    class Params:
        s = None
        i = 0
        total = 1
        ms = L(lambda o: o.s.moment(o.i, o.total))



class SeedFactory(LegacyRowFactory):
    """A row written by a migration seed: all at the first boot, one row per seed entry."""

    class Params:
        ms = L(lambda o: o.s.seeded_at(o.i))


# ---------------------------------------------------------------------------------------------
# The fast path: the same declarations, evaluated without factory-boy's per-row machinery.


class _RowState:
    """The ``o`` a declaration sees: parameters, columns computed so far, and the rest on demand.

    Like factory-boy's Resolver, a declaration that reads an attribute not computed yet computes it
    there and then, so the random draws happen in exactly the order ``Factory.build()`` makes them.
    """

    _functions: ClassVar[dict[str, Callable[[Any], Any]]] = {}

    def __getattr__(self, name: str) -> Any:
        try:
            function = self._functions[name]
        except KeyError:
            raise AttributeError(name) from None
        value = self.__dict__[name] = function(self)
        return value


@dataclass(frozen=True)
class RowRecipe:
    """A factory's declarations in factory-boy's resolution order, ready to build many rows quickly."""

    table: str
    columns: tuple[str, ...]
    names: tuple[str, ...]  # every declaration, parameters included, in resolution order
    state: type[_RowState]

    def rows(
        self, sampler: Sampler, total: int, start: int = 0, stop: int | None = None
    ) -> Iterator[tuple[Any, ...]]:
        """Rows ``start``..``stop`` of ``total`` as tuples in :attr:`columns` order."""
        state_class, names, columns = self.state, self.names, self.columns
        functions = state_class._functions
        for i in range(start, total if stop is None else stop):
            state = state_class()
            values = state.__dict__
            values.update(s=sampler, i=i, total=total)
            for name in names:
                if name not in values:
                    values[name] = functions[name](state)
            yield tuple([values[column] for column in columns])


_PASSED_IN = ("s", "i", "total")


def row_recipe(table: str) -> RowRecipe:
    """Compile the registered factory of ``table`` into a :class:`RowRecipe`.

    Supports the declarations the factories above use: constants and ``LazyAttribute``. Anything
    else raises TypeError rather than silently differing from ``Factory.build()``.
    """
    factory_class = TABLE_FACTORIES[table]
    declarations = factory_class._meta.pre_declarations
    parameters = set(factory_class._meta.parameters)
    functions: dict[str, Callable[[Any], Any]] = {}
    for name in declarations:  # factory-boy's own resolution order (StepBuilder.resolve)
        if name in _PASSED_IN:
            continue
        declaration = declarations.declarations[name]
        if isinstance(declaration, factory.LazyAttribute):
            functions[name] = declaration.function
        elif isinstance(declaration, BaseDeclaration):
            raise TypeError(
                f"{factory_class.__name__}.{name}: {type(declaration).__name__} has no fast path"
            )
        else:
            functions[name] = _constant(declaration)
    state = type(f"{factory_class.__name__}State", (_RowState,), {"_functions": functions})
    columns = tuple(name for name in functions if name not in parameters)
    return RowRecipe(table, columns, tuple(functions), state)


def _constant(value: Any) -> Callable[[Any], Any]:
    return lambda o: value


def build_row(table: str, sampler: Sampler, i: int = 0, total: int = 1) -> dict[str, Any]:
    """One row of ``table`` through factory-boy (slow path; for tests and one-off rows)."""
    return TABLE_FACTORIES[table].build(s=sampler, i=i, total=total)
