import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

/** A throwaway database on a real PostgreSQL server, for tests. */
export interface TestDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database beside the one `adminUrl` points at; `drop()` removes it. */
export async function createTestDatabase(adminUrl: string): Promise<TestDatabase> {
  const name = `studio_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(adminUrl, { max: 1, onnotice: () => {} });
  try {
    await admin.unsafe(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    drop: async () => {
      const dropper = postgres(adminUrl, { max: 1, onnotice: () => {} });
      try {
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
      } finally {
        await dropper.end();
      }
    },
  };
}
