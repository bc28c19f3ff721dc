import { drizzle } from "drizzle-orm/d1";
import * as schema from "./schema";

export type LedgerDb = ReturnType<typeof ledgerDb>;

export function ledgerDb(d1: D1Database) {
  return drizzle(d1, { schema });
}
