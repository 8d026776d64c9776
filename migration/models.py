"""Bookkeeping tables of the cutover engine."""
