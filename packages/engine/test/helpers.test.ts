/** The test helpers' own contract: `testDir` removes what it made once the test ends. */
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeEach, describe, expect, it } from 'vitest';
import { testDir } from './helpers.js';

describe('testDir', () => {
  const made: string[] = [];
  let fromHook = '';
  beforeEach(() => {
    fromHook = testDir('strata-helpers-');
    made.push(fromHook);
  });

  it('makes a fresh, empty directory for each call', () => {
    const own = testDir('strata-helpers-');
    made.push(own);
    expect(own).not.toBe(fromHook);
    writeFileSync(join(own, 'a-file'), 'x');
    expect(existsSync(join(own, 'a-file'))).toBe(true);
  });

  it('removed the directories of the test before, its beforeEach included (contents and all)', () => {
    expect(made).toHaveLength(3);
    expect(made.slice(0, 2).map(existsSync)).toEqual([false, false]);
    expect(existsSync(fromHook)).toBe(true);
  });
});
