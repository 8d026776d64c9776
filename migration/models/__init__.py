"""Bookkeeping tables of the cutover engine, one module per concern."""
from migration.models.console import CutoverConsole
from migration.models.tombstone import Tombstone

__all__ = ["CutoverConsole", "Tombstone"]
