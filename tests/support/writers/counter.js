// Increment one counter row of a SQLite file for a while with better-sqlite3, as the legacy app
// would, and count what was acknowledged.
// Usage: node counter.js FILE TABLE COLUMN ID STOPFILE (it stops once STOPFILE exists)
// Prints {"acked": n, "refused": n, "errors": n, "refusal": "first refusal message"}.
"use strict";
const Database = require("better-sqlite3");

const fs = require("fs");

const [file, table, column, id, stopfile] = process.argv.slice(2);
const db = new Database(file, { timeout: 10000 });
const bump = db.prepare(`UPDATE "${table}" SET "${column}" = "${column}" + 1 WHERE id = ?`);
const result = { acked: 0, refused: 0, errors: 0, refusal: "" };
const pause = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
while (!fs.existsSync(stopfile)) {
  try {
    if (bump.run(Number(id)).changes === 1) result.acked += 1;
  } catch (err) {
    if (String(err.message).includes("cutover fence:")) {
      result.refused += 1;
      result.refusal = result.refusal || err.message;
    } else {
      result.errors += 1;
    }
    pause(20);
  }
  pause(5);
}
db.close();
process.stdout.write(JSON.stringify(result) + "\n");
