"""An application process for the outage test: reads commands on stdin, answers one JSON line each.

Every ORM call is wrapped so that an exception reaching "the user" is reported, not raised.
"""
from __future__ import annotations

import json
import sys
import traceback
from typing import Any

import django

django.setup()

from core.models.auth import User  # noqa: E402
from core.models.menu import MenuCategory  # noqa: E402
from migration import dualwrite, phase  # noqa: E402


def write(tag: str, count: int) -> dict[str, Any]:
    made = [MenuCategory.objects.create(name=f"{tag}-{i}", name_tr="x", display_order=i) for i in range(count)]
    MenuCategory.objects.filter(name__startswith=f"{tag}-").update(icon="updated")
    made[0].name = f"{tag}-renamed"
    made[0].save()
    made[-1].delete()
    MenuCategory.objects.bulk_create([MenuCategory(name=f"{tag}-bulk-{i}", name_tr="y") for i in range(3)])
    User.objects.update_or_create(id=f"{tag}-user", defaults={"email": f"{tag}@example.com", "password_hash": "h"})
    return {"written": count}


def read(tag: str) -> dict[str, Any]:
    names = sorted(MenuCategory.objects.filter(name__startswith=f"{tag}-").values_list("name", flat=True))
    return {
        "names": names,
        "count": MenuCategory.objects.count(),
        "exists": MenuCategory.objects.filter(name=f"{tag}-renamed").exists(),
        "user": User.objects.get(pk=f"{tag}-user").email,
    }


def status() -> dict[str, Any]:
    return {"phase": str(phase.current_state()), "outbox": dualwrite.outbox_depth_by_alias()}


def main() -> None:
    for line in sys.stdin:
        command, *args = line.split()
        try:
            if command == "quit":
                break
            if command == "write":
                result = write(args[0], int(args[1]))
            elif command == "read":
                result = read(args[0])
            else:
                result = {"status": status}[command]()
            answer = {"ok": True, **result}
        except Exception as exc:  # noqa: BLE001 - this is what a user would have seen
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}", "trace": traceback.format_exc()}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
