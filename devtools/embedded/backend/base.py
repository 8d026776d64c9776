"""Django's PostgreSQL backend, starting the embedded server on the first connection of a process."""
from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import Any

from django.db.backends.postgresql import base

from devtools.embedded import server

_ready: set[tuple[str, str]] = set()  # (data directory, database) known to exist in this process
_lock = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    """The PostgreSQL backend whose HOST is an embedded server's data directory."""

    def get_new_connection(self, conn_params: dict[str, Any]) -> Any:
        pgdata = Path(self.settings_dict["HOST"])
        key = (str(pgdata), str(conn_params.get("dbname") or self.settings_dict["NAME"]))
        if key not in _ready:
            with _lock:
                if key not in _ready:
                    if server.ensure_running(pgdata):
                        print(f"procheff: started the embedded PostgreSQL server in {pgdata}", file=sys.stderr)
                    server.ensure_database(pgdata, key[1])
                    _ready.add(key)
        return super().get_new_connection(conn_params)
