"""Row factories of every legacy table, by domain; importing this package registers them all."""

from devtools.legacydb.tables import analysis, auth, intelligence, market, menu

__all__ = ["analysis", "auth", "intelligence", "market", "menu"]
