import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import { runStoreContract } from '../test/store-contract.js';
import { createMemoryStore } from './memory-store.js';
import { openSqliteStore } from './sqlite-store.js';

const directory = mkdtempSync(join(tmpdir(), 'palisade-store-contract-'));
let files = 0;
afterAll(() => rmSync(directory, { recursive: true, force: true }));

runStoreContract('memory', () => createMemoryStore());

runStoreContract(
  'sqlite',
  () => {
    files += 1;
    return openSqliteStore({ path: join(directory, `state-${files}.db`) });
  },
  {
    reopen: async (store) => {
      await store.close();
      return openSqliteStore({ path: store.location });
    },
  },
);
