import { describe, expect, it } from 'vitest';
import { SEGMENT_HEADER_SIZE, decodeSegmentHeader, encodeSegmentHeader, formatUuid, uuidBytes } from './segment-header.js';
import { parseSegmentFileName, segmentFileName } from './segment-directory.js';

const UUID = '6f1c2a4e-8b3d-4e5f-9a7b-0c1d2e3f4a5b';

describe('segment header', () => {
  it('round-trips, with segment numbers and LSNs up to the largest safe integer', () => {
    for (const [segment, firstLsn] of [[1, 1], [7, 2 ** 32 + 5], [Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]]) {
      const bytes = encodeSegmentHeader({ uuid: uuidBytes(UUID), segment: segment!, firstLsn: firstLsn! });
      expect(bytes.length).toBe(SEGMENT_HEADER_SIZE);
      expect(bytes.subarray(0, 8).toString('latin1')).toBe('STRATAWL');
      const header = decodeSegmentHeader(bytes, 'f');
      expect(header).toMatchObject({ segment, firstLsn });
      expect(formatUuid(header.uuid)).toBe(UUID);
    }
  });

  it('detects a change to any byte, naming the file', () => {
    const good = encodeSegmentHeader({ uuid: uuidBytes(UUID), segment: 3, firstLsn: 10 });
    for (let i = 0; i < SEGMENT_HEADER_SIZE; i++) {
      const bad = Buffer.from(good);
      bad[i]! ^= 0x10;
      expect(() => decodeSegmentHeader(bad, '/db/000003.wal'), `byte ${i}`).toThrow(expect.objectContaining({ code: 'CORRUPTION', file: '/db/000003.wal' }));
    }
    expect(() => decodeSegmentHeader(good.subarray(0, 47), 'f')).toThrow(/torn/);
  });

  it('takes only canonical UUID strings', () => {
    expect(() => uuidBytes('6f1c2a4e8b3d4e5f9a7b0c1d2e3f4a5b')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(formatUuid(uuidBytes(UUID.toUpperCase()))).toBe(UUID);
  });
});

describe('segment file names', () => {
  it('sort like their numbers and parse back; other files are not segments', () => {
    const names = [1, 2, 10, 99, 100_000, 999_999].map(segmentFileName);
    expect(names).toEqual(['000001.wal', '000002.wal', '000010.wal', '000099.wal', '100000.wal', '999999.wal']);
    expect([...names].sort()).toEqual(names);
    expect(segmentFileName(1_234_567)).toBe('1234567.wal');
    for (const n of [1, 42, 1_234_567]) expect(parseSegmentFileName(segmentFileName(n))).toBe(n);
    for (const other of ['000012.sst', 'MANIFEST-000003', 'CURRENT', '000000.wal', '0000001.wal', '12.wal', '000001.wal.tmp']) {
      expect(parseSegmentFileName(other), other).toBeUndefined();
    }
    expect(() => segmentFileName(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
