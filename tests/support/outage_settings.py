"""Settings of the outage test's processes: the project's, with PostgreSQL on a throwaway server's socket."""
import os

from procheff.settings import *  # noqa: F403

DATABASES["default"]["HOST"] = os.environ["OUTAGE_PG_HOST"]  # noqa: F405
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
