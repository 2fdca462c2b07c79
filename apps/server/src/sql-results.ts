// What `db.execute` answers differs by driver: postgres.js gives an array (with `count`), PGlite
// an object with `rows` and `affectedRows`. Raw statements read their results through these.

/** The rows a raw statement returned. */
export function rowsOf<T>(result: unknown): T[] {
  if (Array.isArray(result)) return result as T[];
  return ((result as { rows?: T[] }).rows ?? []) as T[];
}

/** How many rows a raw insert or update touched. */
export function affectedRows(result: unknown): number {
  const record = result as { count?: number; affectedRows?: number };
  return record.count ?? record.affectedRows ?? 0;
}
