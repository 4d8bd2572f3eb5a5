import { describe, expect, it } from 'vitest';
import { isFsError } from '../fs-error.js';
import { FaultInjectingFileSystem } from './fault-injecting-file-system.js';
import { MemoryFileSystem } from './memory-file-system.js';

const b = (s: string): Uint8Array => new TextEncoder().encode(s);
const text = (u: Uint8Array): string => new TextDecoder().decode(u);

function setup(options: ConstructorParameters<typeof FaultInjectingFileSystem>[1] = {}) {
  const mem = new MemoryFileSystem();
  mem.mkdirSync('/db', { recursive: true });
  const fs = new FaultInjectingFileSystem(mem, options);
  return { mem, fs };
}

function put(fs: FaultInjectingFileSystem, fd: number, s: string): void {
  fs.writeSync(fd, b(s), 0, s.length, null);
}

function codeOf(f: () => void): string | undefined {
  try {
    f();
    return undefined;
  } catch (err) {
    return isFsError(err) ? err.code : `not an fs error: ${String(err)}`;
  }
}

describe('FaultInjectingFileSystem', () => {
  it('fails the nth call of a kind once', () => {
    const { fs, mem } = setup({ rules: [{ op: 'write', nth: 2, code: 'ENOSPC' }] });
    const fd = fs.openSync('/db/f', 'w');
    put(fs, fd, 'a');
    expect(codeOf(() => {
      put(fs, fd, 'b');
    })).toBe('ENOSPC');
    put(fs, fd, 'c');
    expect(text(mem.readFileSync('/db/f'))).toBe('ac');
    expect(fs.injected.map((i) => [i.op.kind, i.code])).toEqual([['write', 'ENOSPC']]);
  });

  it('fails every call from the nth on when persistent', () => {
    const { fs } = setup({ rules: [{ op: 'write', nth: 2, persistent: true }] });
    const fd = fs.openSync('/db/f', 'w');
    put(fs, fd, 'a');
    for (let i = 0; i < 5; i++) expect(codeOf(() => {
      put(fs, fd, 'x');
    })).toBe('EIO');
    expect(fs.injected).toHaveLength(5);
  });

  it('counts only the calls the selector and path pick', () => {
    const { fs } = setup({ rules: [{ op: 'any', nth: 3, path: /\.log$/ }] });
    const other = fs.openSync('/db/other', 'w');
    put(fs, other, 'x'); // not counted: other path
    const log = fs.openSync('/db/a.log', 'w'); // 1
    put(fs, log, 'a'); // 2
    put(fs, other, 'y');
    expect(codeOf(() => {
      put(fs, log, 'b');
    })).toBe('EIO'); // 3
    expect(fs.count('write')).toBe(4);
    expect(fs.count('open')).toBe(2);
  });

  it('fails a sync with a rejection, and the failed sync makes nothing durable', async () => {
    const { fs, mem } = setup({ rules: [{ op: 'sync', nth: 2 }] });
    const fd = fs.openSync('/db/f', 'w');
    await fs.fsyncDir('/db'); // sync #1
    put(fs, fd, 'data');
    let threw = false;
    let promise: Promise<void> | undefined;
    try {
      promise = fs.fdatasync(fd); // sync #2
    } catch {
      threw = true;
    }
    expect(threw).toBe(false);
    await expect(promise).rejects.toMatchObject({ code: 'EIO', syscall: 'fdatasync' });
    expect(text(mem.powerCut().readFileSync('/db/f'))).toBe('');
    await fs.fdatasync(fd);
    expect(text(mem.powerCut().readFileSync('/db/f'))).toBe('data');
  });

  it('tears a failing write when asked: a prefix lands, the call still fails', () => {
    let torn = 0;
    for (let seed = 1; seed <= 20; seed++) {
      const { fs, mem } = setup({ seed, rules: [{ op: 'write', nth: 1, code: 'ENOSPC', torn: true }] });
      const fd = fs.openSync('/db/f', 'w');
      expect(codeOf(() => {
        put(fs, fd, '0123456789');
      })).toBe('ENOSPC');
      const got = text(mem.readFileSync('/db/f'));
      expect('0123456789'.startsWith(got)).toBe(true);
      expect(got.length).toBeLessThan(10);
      if (got.length > 0) torn++;
    }
    expect(torn).toBe(20);
  });

  it('tears a failing write at a chosen length (tornBytes), all of it at most', () => {
    for (const [tornBytes, want] of [[0, ''], [4, '0123'], [10, '0123456789'], [99, '0123456789']] as const) {
      const { fs, mem } = setup({ rules: [{ op: 'write', nth: 1, code: 'EIO', tornBytes }] });
      const fd = fs.openSync('/db/f', 'w');
      expect(codeOf(() => {
        put(fs, fd, '0123456789');
      })).toBe('EIO');
      expect(text(mem.readFileSync('/db/f'))).toBe(want);
    }
  });

  it('tracks descriptors, and a failing close still releases its descriptor', () => {
    const { fs, mem } = setup({ rules: [{ op: 'close', nth: 1 }] });
    const a = fs.openSync('/db/a', 'w');
    const c = fs.openSync('/db/c', 'w');
    expect(fs.openFiles().map((f) => f.path)).toEqual(['/db/a', '/db/c']);
    expect(codeOf(() => {
      fs.closeSync(a);
    })).toBe('EIO');
    fs.closeSync(c);
    expect(fs.openFiles()).toEqual([]);
    expect(mem.openFiles()).toEqual([]);
  });

  it('after powerOff fails every call and rejects the syncs in flight', async () => {
    const { fs, mem } = setup();
    const fd = fs.openSync('/db/f', 'w');
    put(fs, fd, 'x');
    const inFlight = fs.fdatasync(fd);
    fs.powerOff();
    await expect(inFlight).rejects.toMatchObject({ code: 'EIO' });
    expect(codeOf(() => {
      put(fs, fd, 'y');
    })).toBe('EIO');
    await expect(fs.fsyncDir('/db')).rejects.toMatchObject({ code: 'EIO' });
    // close still works: a program shutting down after the cut must not look like a leak
    fs.closeSync(fd);
    expect(mem.openFiles()).toEqual([]);
  });

  it('shows every call to a hook first, and a throwing hook fails the call', () => {
    const seen: string[] = [];
    const { fs } = setup({
      traceLimit: 3,
      onOperation: (op) => {
        seen.push(`${op.index}:${op.kind}`);
        if (op.kind === 'rename') throw new Error('hook says no');
      },
    });
    fs.closeSync(fs.openSync('/db/a', 'w'));
    expect(() => {
      fs.renameSync('/db/a', '/db/b');
    }).toThrow('hook says no');
    expect(fs.existsSync('/db/a')).toBe(true);
    expect(seen).toEqual(['1:open', '2:close', '3:rename', '4:exists']);
    expect(fs.trace().map((o) => o.kind)).toEqual(['close', 'rename', 'exists']);
    expect(fs.operationCount).toBe(4);
    expect(fs.traceText()).toContain('#3 rename /db/a');
  });

  it('can lie about syncs: success reported, nothing made durable', async () => {
    const { fs, mem } = setup({ rules: [{ op: 'fdatasync', nth: 1, lie: true, path: /\.wal$/ }] });
    const fd = fs.openSync('/db/000001.wal', 'w');
    await fs.fsyncDir('/db');
    put(fs, fd, 'acknowledged');
    await fs.fdatasync(fd);
    expect(fs.syncsCompleted).toBe(2);
    expect(text(mem.powerCut().readFileSync('/db/000001.wal'))).toBe('');
    await fs.fsync(fd); // not selected by the rule: a real sync
    expect(text(mem.powerCut().readFileSync('/db/000001.wal'))).toBe('acknowledged');
  });

  it('rejects a rule that can never fire', () => {
    expect(() => setup({ rules: [{ op: 'write', nth: 0 }] })).toThrow(RangeError);
  });
});
