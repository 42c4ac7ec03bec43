import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

import { StoreError, toStoreError } from './errors.js';
import type { SqlClient } from './sql-client.js';

/** The package's migrations: beside `src/` and `dist/`, so both find them at `../migrations`. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Serialises concurrent migrators (several workers starting at once) on one database. */
const MIGRATION_LOCK = 0x466c_6d67; // "Flmg"

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;

export interface Migration {
  version: string;
  name: string;
  sql: string;
}

/** The versioned `NNNN_name.sql` files of a directory, in version order. */
export function loadMigrations(dir: string = MIGRATIONS_DIR): Migration[] {
  const migrations = readdirSync(dir)
    .map((file) => ({ file, match: FILE_NAME.exec(file) }))
    .filter((entry): entry is { file: string; match: RegExpExecArray } => entry.match !== null)
    .map(({ file, match }) => ({
      version: match[1]!,
      name: match[2]!,
      sql: readFileSync(join(dir, file), 'utf8'),
    }))
    .sort((a, b) => a.version.localeCompare(b.version));
  const versions = new Set(migrations.map((m) => m.version));
  if (versions.size !== migrations.length) {
    throw new StoreError('store_migration_failed', `${dir}: two migrations share a version`);
  }
  return migrations;
}

/**
 * Applies the migrations not yet recorded in `schema_migrations`, in order, in one transaction:
 * either all of them are applied or none. Returns the versions it applied.
 */
export async function migrate(
  client: SqlClient,
  migrations: Migration[] = loadMigrations(),
): Promise<string[]> {
  try {
    return await client.transaction(async (tx) => {
      // A migration may rewrite a big table, and may wait for another migrator: no time limit.
      await tx.exec('set local statement_timeout = 0');
      await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
      await tx.exec(`create table if not exists schema_migrations (
        version text primary key,
        name text not null,
        applied_at timestamptz not null default now()
      )`);
      const { rows } = await tx.query<{ version: string }>('select version from schema_migrations');
      const done = new Set(rows.map((r) => r.version));
      const applied: string[] = [];
      for (const migration of migrations) {
        if (done.has(migration.version)) continue;
        try {
          await tx.exec(migration.sql);
        } catch (cause) {
          throw new StoreError(
            'store_migration_failed',
            `migration ${migration.version}_${migration.name}: ${(cause as Error).message}`,
            { cause },
          );
        }
        await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [
          migration.version,
          migration.name,
        ]);
        applied.push(migration.version);
      }
      return applied;
    });
  } catch (error) {
    throw toStoreError(error, 'migrate');
  }
}
