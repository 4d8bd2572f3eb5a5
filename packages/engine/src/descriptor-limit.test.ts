import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultMaxOpenFiles, softDescriptorLimit } from './descriptor-limit.js';
import { resolveOptions } from './options.js';

const limits = (soft: string, hard: string): string =>
  [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    `Max open files            ${soft.padEnd(21)}${hard.padEnd(21)}files     `,
    'Max locked memory         8388608              8388608              bytes     ',
  ].join('\n');

describe('the default maxOpenFiles', () => {
  it('reads the soft descriptor limit from /proc/<pid>/limits text', () => {
    expect(softDescriptorLimit(limits('1024', '524288'))).toBe(1024);
    expect(softDescriptorLimit(limits('unlimited', 'unlimited'))).toBe(Number.MAX_SAFE_INTEGER);
    expect(softDescriptorLimit('Max cpu time unlimited unlimited seconds')).toBeUndefined();
    expect(softDescriptorLimit(limits('many', '5'))).toBeUndefined();
  });

  it("is half this process's soft limit, at most 10,000, never below the minimum", () => {
    const soft = softDescriptorLimit(readProcLimits() ?? '');
    const want = soft === undefined ? 128 : Math.max(11, Math.min(10_000, Math.floor(soft / 2)));
    expect(defaultMaxOpenFiles(11)).toBe(want);
    expect(defaultMaxOpenFiles(50_000)).toBe(50_000);
    expect(resolveOptions({}).maxOpenFiles).toBe(want);
    expect(resolveOptions({ maxOpenFiles: 40 }).maxOpenFiles).toBe(40);
  });
});

function readProcLimits(): string | undefined {
  try {
    return readFileSync('/proc/self/limits', 'utf8');
  } catch {
    return undefined;
  }
}
