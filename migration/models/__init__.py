"""Bookkeeping tables of the cutover engine, one module per concern."""
from migration.models.tombstone import Tombstone
from migration.models.validation import ValidationRepair, ValidationRun, ValidationTable

__all__ = ["Tombstone", "ValidationRepair", "ValidationRun", "ValidationTable"]
