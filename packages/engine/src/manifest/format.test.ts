import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MemoryFileSystem } from '../testing/index.js';
import { VersionEdit } from '../version/version-edit.js';
import { ByteWriter } from './byte-coding.js';
import { decodeEdit, encodeEdit } from './format.js';
import { ManifestWriter, readManifest } from './manifest.js';

const fileArb = fc.record({
  fileNumber: fc.integer({ min: 1, max: 2 ** 40 }),
  fileSize: fc.integer({ min: 0, max: 2 ** 45 }),
  smallestKey: fc.uint8Array({ maxLength: 20 }),
  largestKey: fc.uint8Array({ maxLength: 20 }),
  minSeq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  maxSeq: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
  entryCount: fc.nat(),
  deleteCount: fc.nat(),
  tombstoneCount: fc.nat(),
  markedForCompaction: fc.boolean(),
});

const editArb = fc
  .record({
    logNumber: fc.option(fc.nat(), { nil: undefined }),
    nextFileNumber: fc.option(fc.nat(), { nil: undefined }),
    lastSequence: fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined }),
    dbId: fc.option(fc.uuid(), { nil: undefined }),
    added: fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fileArb), { maxLength: 5 }),
    deleted: fc.array(fc.tuple(fc.integer({ min: 0, max: 6 }), fc.nat()), { maxLength: 5 }),
  })
  .map((r) => {
    const e = new VersionEdit();
    e.logNumber = r.logNumber;
    e.nextFileNumber = r.nextFileNumber;
    e.lastSequence = r.lastSequence;
    e.dbId = r.dbId;
    for (const [l, f] of r.added) e.addFile(l, f);
    for (const [l, n] of r.deleted) e.deleteFile(l, n);
    return e;
  });

describe('manifest format', () => {
  it('edits round-trip', () => {
    fc.assert(
      fc.property(editArb, (e) => {
        expect(decodeEdit(encodeEdit(e))).toEqual(e);
      }),
    );
  });

  it('reads a tag-5 file record (written before deleteCount and the mark were kept) as 0 deletes, not marked', () => {
    const w = new ByteWriter();
    w.varint(5);
    for (const v of [2, 17, 4096, 3, 9, 100, 1]) w.varint(v); // level, number, size, minSeq, maxSeq, entries, tombstones
    w.bytes(Buffer.from('a'));
    w.bytes(Buffer.from('q'));
    const e = decodeEdit(w.finish());
    expect(e.added).toEqual([
      {
        level: 2,
        file: { fileNumber: 17, fileSize: 4096, minSeq: 3, maxSeq: 9, entryCount: 100, deleteCount: 0, tombstoneCount: 1, markedForCompaction: false, smallestKey: new Uint8Array([97]), largestKey: new Uint8Array([113]) },
      },
    ]);
  });

  it('a torn tail is dropped at every length; a damaged middle record is CORRUPTION', async () => {
    const fs = new MemoryFileSystem();
    fs.mkdirSync('/d', { recursive: true });
    const first = new VersionEdit();
    first.dbId = '00000000-0000-4000-8000-000000000000';
    const w = await ManifestWriter.create(fs, '/d', 1, first);
    const sizes = [w.fileSize];
    for (let i = 0; i < 3; i++) {
      const e = new VersionEdit();
      e.lastSequence = i + 10;
      await w.append(e);
      sizes.push(w.fileSize);
    }
    w.close();
    const whole = fs.readFileSync('/d/MANIFEST-000001');
    for (let cut = sizes[0]!; cut <= whole.length; cut++) {
      fs.writeFileDurably('/d/M', whole.subarray(0, cut));
      const n = readManifest(fs, '/d/M').edits.length;
      expect(n).toBe(sizes.filter((s) => s <= cut).length);
    }
    const damaged = Uint8Array.from(whole);
    damaged[sizes[1]! + 2]! ^= 1; // inside the second record; two intact records follow
    fs.writeFileDurably('/d/M', damaged);
    expect(() => readManifest(fs, '/d/M')).toThrow(expect.objectContaining({ code: 'CORRUPTION', offset: sizes[1] }));
    const zeros = new Uint8Array(whole.length + 50);
    zeros.set(whole);
    fs.writeFileDurably('/d/M', zeros);
    expect(readManifest(fs, '/d/M').edits.length).toBe(4);
  });
});
