"""Run SQL statements against a SQLite file with Python's sqlite3 module, outside Django.

Usage: python write.py FILE '[["SQL", [params]], ...]'; each statement is its own transaction.
"""
import json
import sqlite3
import sys

file, statements = sys.argv[1], json.loads(sys.argv[2])
connection = sqlite3.connect(file, timeout=10, isolation_level=None)
for sql, params in statements:
    changes = connection.execute(sql, params or []).rowcount
    print(json.dumps({"sql": sql, "changes": changes}), flush=True)
connection.close()
