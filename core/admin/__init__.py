"""Admin for every legacy table: spot checks of what the legacy app wrote, on either database.

One module per domain; importing them registers their ModelAdmins with the default site.
"""
from core.admin import analysis, auth, chat, intelligence, logs, market, menu, settings, tenders  # noqa: F401 - registered on import
