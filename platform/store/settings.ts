/** The store's named settings: values set once (the first writer wins) and read back. */
import { type SqlExecutor, str } from "./sql.ts";

/** The setting's value, or undefined when none was set. */
export async function getSetting(q: SqlExecutor, name: string): Promise<string | undefined> {
  const rows = await q.all("SELECT value FROM settings WHERE name = $1", [name]);
  return rows[0] ? str(rows[0].value) : undefined;
}

/** Inside a write: sets the value (created `now()`) unless one is set; returns the value that holds. */
export async function initSetting(
  q: SqlExecutor,
  name: string,
  value: string,
  now: () => Date,
): Promise<string> {
  const rows = await q.all("SELECT value FROM settings WHERE name = $1", [name]);
  if (rows[0]) return str(rows[0].value);
  await q.run("INSERT INTO settings (name, value, created_at) VALUES ($1, $2, $3)", [
    name,
    value,
    now().toISOString(),
  ]);
  return value;
}
