"""A generator of realistic legacy Procheff databases, for the demo, the tests and the benchmarks.

Importing the package registers every table's row factory (:mod:`devtools.legacydb.tables`).
"""
from devtools.legacydb import tables

__all__ = ["tables"]
