"""Bookkeeping tables of the cutover engine, one module per concern."""
