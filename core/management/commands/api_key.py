"""Issue, list and revoke the JSON API's keys; a key is printed once, by ``create``, and never again."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import dateparse

from core import api_keys
from core.models import ApiKey


def parse_instant(text: str) -> dt.datetime:
    """An ISO 8601 date (midnight UTC) or date and time (UTC when it names no offset)."""
    try:
        instant = dateparse.parse_datetime(text)
        if instant is None:
            day = dateparse.parse_date(text)
            instant = None if day is None else dt.datetime(day.year, day.month, day.day)
    except ValueError:
        instant = None
    if instant is None:
        raise CommandError(f"--expires-at {text!r} is not an ISO 8601 date or date and time", returncode=2)
    return instant if instant.tzinfo is not None else instant.replace(tzinfo=dt.UTC)


def described(key: ApiKey) -> dict[str, Any]:
    """What may be shown about a key: never the key, never its hash."""
    return {
        "id": key.pk,
        "name": key.name,
        "key_preview": key.key_preview,
        "scopes": sorted(api_keys.scopes_of(key.permissions)),
        "status": api_keys.status_of(key),
        "expires_at": key.expires_at.isoformat() if key.expires_at else None,
        "created_by": key.created_by,
        "created_at": key.created_at.isoformat() if key.created_at else None,
    }


def one_line(key: ApiKey) -> str:
    info = described(key)
    expires = info["expires_at"] or "never"
    return (
        f'{info["id"]:>4}  {info["name"]!r}  {info["key_preview"]}  {info["status"]}  expires {expires}  '
        f'scopes {" ".join(info["scopes"]) or "(none)"}'
    )


class Command(BaseCommand):
    help = "Issue (create), list and revoke API keys of the JSON API; only create shows a key, once."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{create,list,revoke}")
        create = actions.add_parser("create", help="Issue a key and print it once.")
        create.add_argument("--name", required=True, help="Who or what uses the key (shown in listings).")
        create.add_argument(
            "--scope", dest="scopes", action="extend", nargs="+", required=True, metavar="SCOPE",
            help=f"Scopes the key grants, repeatable: {', '.join(api_keys.SCOPES)}.",
        )
        create.add_argument("--expires-at", help="ISO 8601 date or date and time (UTC unless it says); default never.")
        create.add_argument("--created-by", help="Stored in created_by (an e-mail address, say).")
        create.add_argument("--json", action="store_true", help="Machine-readable result (the key included).")
        listing = actions.add_parser("list", help="Every key with its name, preview, status and scopes.")
        listing.add_argument("--json", action="store_true", help="Machine-readable result.")
        revoke = actions.add_parser("revoke", help="Revoke a key by its id, or every active key of a name.")
        revoke.add_argument("id", nargs="?", type=int, help="The key's id (from `api_key list`).")
        revoke.add_argument("--name", help="Revoke every active key of this name instead.")
        revoke.add_argument("--json", action="store_true", help="Machine-readable result.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                self.create(options)
            elif options["action"] == "list":
                self.show(api_keys.keys(), options, "No API keys yet; `api_key create` issues one.")
            else:
                revoked = api_keys.revoke(key_id=options["id"], name=options["name"])
                self.show(revoked, options, "")
                if not options["json"] and options["verbosity"] >= 1:
                    self.stdout.write(self.style.SUCCESS(
                        f"Revoked {len(revoked)} key(s). Other processes may still accept them for up to "
                        f"{api_keys.memo_seconds():g} s (API_KEY_MEMO_SECONDS)."
                    ))
        except api_keys.NoSuchKey as exc:
            raise CommandError(str(exc), returncode=1) from exc
        except api_keys.InvalidKeyRequest as exc:
            raise CommandError(str(exc), returncode=2) from exc

    def create(self, options: dict[str, Any]) -> None:
        expires_at = parse_instant(options["expires_at"]) if options["expires_at"] else None
        key, secret = api_keys.issue(options["name"], options["scopes"], expires_at, options["created_by"])
        if options["json"]:
            self.stdout.write(json.dumps({**described(key), "key": secret}, indent=2))
            return
        if options["verbosity"] >= 1:
            self.stdout.write(self.style.SUCCESS(f"Created API key:\n{one_line(key)}"))
            self.stdout.write("The key, shown only now (the database keeps its SHA-256 hash):")
        self.stdout.write(secret)

    def show(self, keys: list[ApiKey], options: dict[str, Any], empty: str) -> None:
        if options["json"]:
            self.stdout.write(json.dumps([described(key) for key in keys], indent=2))
        elif options["verbosity"] >= 1:
            for key in keys:
                self.stdout.write(one_line(key))
            if not keys and empty:
                self.stdout.write(empty)
