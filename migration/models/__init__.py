"""Bookkeeping tables of the cutover engine, one module per concern."""
from migration.models.console import CutoverConsole
from migration.models.copy import BackupRecord, CopyCheckpoint, CopyReject, CopyRun
from migration.models.cutover import LatencySample, OutboxRecord, PhaseChange, ShadowMismatch
from migration.models.tombstone import Tombstone
from migration.models.validation import (
    ValidationHashCache,
    ValidationRepair,
    ValidationRun,
    ValidationTable,
)

__all__ = [
    "BackupRecord", "CopyCheckpoint", "CopyReject", "CopyRun", "CutoverConsole", "LatencySample",
    "OutboxRecord", "PhaseChange", "ShadowMismatch", "Tombstone", "ValidationHashCache", "ValidationRepair",
    "ValidationRun", "ValidationTable",
]
