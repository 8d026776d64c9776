"""Bookkeeping tables of the cutover engine, one module per concern."""
from migration.models.cutover import LatencySample, OutboxRecord, PhaseChange, ShadowMismatch
from migration.models.tombstone import Tombstone

__all__ = ["LatencySample", "OutboxRecord", "PhaseChange", "ShadowMismatch", "Tombstone"]
