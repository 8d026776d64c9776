"""A database backend for the embedded PostgreSQL server (``ENGINE = "devtools.embedded.backend"``)."""
