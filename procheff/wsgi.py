"""WSGI entry point.

Once the application is loaded, everything it allocated so far (modules, models, settings, URL
patterns) is moved out of the cyclic garbage collector's sight with ``gc.freeze()``: a full
collection then walks only what requests created since, instead of the whole heap with every
thread of the process stopped. Set ``WSGI_GC_FREEZE=0`` to keep the interpreter's default.
"""
import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "procheff.settings")
application = get_wsgi_application()

if os.environ.get("WSGI_GC_FREEZE", "1") != "0":
    gc.collect()
    gc.freeze()
