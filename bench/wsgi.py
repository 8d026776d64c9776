"""The project's WSGI application for the load test, with server errors logged to stderr.

With DEBUG off Django sends a request's traceback only to ``mail_admins``; the load test needs
it in the gunicorn log to say why a request failed.
"""
from __future__ import annotations

import logging

from procheff.wsgi import application

_handler = logging.StreamHandler()
_handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
logging.getLogger("django.request").addHandler(_handler)

__all__ = ["application"]
