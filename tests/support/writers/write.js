// Run SQL statements against a SQLite file with better-sqlite3, as the legacy Node.js app does.
// Usage: node write.js FILE '[["SQL", [params]], ...]'; each statement is its own transaction.
"use strict";
const Database = require("better-sqlite3");

const [file, json] = process.argv.slice(2);
const db = new Database(file, { timeout: 10000 });
for (const [sql, params] of JSON.parse(json)) {
  const info = db.prepare(sql).run(...(params || []));
  process.stdout.write(JSON.stringify({ sql, changes: info.changes }) + "\n");
}
db.close();
