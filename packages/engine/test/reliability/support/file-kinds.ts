/**
 * Which kind of database file a name is, and — for tables — which part of the file an offset
 * falls in, so that the corruption suite can say "flipped a byte of the filter block of
 * 000012.sst" and make sure every part of every kind of file was hit.
 */
import {
  BLOCK_TRAILER_SIZE,
  Block,
  BlockCursor,
  decodeBlockHandle,
  decodePartitionEntry,
  FOOTER_SIZE,
  META_FILTER,
  META_PROPERTIES,
  META_RANGE_DEL,
  unsealBlock,
} from '@strata-db/sstable-core';
import { parseSegmentFileName } from '@strata-db/wal';

export type FileKind = 'wal' | 'table' | 'manifest' | 'current' | 'identity' | 'lock' | 'other';

export function fileKind(name: string): FileKind {
  if (name === 'CURRENT') return 'current';
  if (name === 'IDENTITY') return 'identity';
  if (name === 'LOCK') return 'lock';
  if (/^MANIFEST-\d+$/.test(name)) return 'manifest';
  if (/^\d+\.sst$/.test(name)) return 'table';
  if (parseSegmentFileName(name) !== undefined) return 'wal';
  return 'other';
}

export interface Region {
  readonly name: string;
  readonly start: number;
  /** Exclusive. */
  readonly end: number;
}

const le32 = (b: Uint8Array, p: number): number => (b[p]! | (b[p + 1]! << 8) | (b[p + 2]! << 16) | (b[p + 3]! << 24)) >>> 0;
const le64 = (b: Uint8Array, p: number): number => le32(b, p) + le32(b, p + 4) * 0x1_0000_0000;

/** The parts of an intact table file: data blocks, filter and index partitions (v2) or filter (v1), range tombstones, properties, meta-index, the (top-level) index, footer. */
export function tableRegions(bytes: Uint8Array, file: string): Region[] {
  const footerAt = bytes.length - FOOTER_SIZE;
  const metaIndex = { offset: le64(bytes, footerAt), size: le32(bytes, footerAt + 8) };
  const index = { offset: le64(bytes, footerAt + 12), size: le32(bytes, footerAt + 20) };
  const regions: Region[] = [];
  const block = (name: string, h: { offset: number; size: number }): void => {
    regions.push({ name, start: h.offset, end: h.offset + h.size + BLOCK_TRAILER_SIZE });
  };
  const raw = bytes.subarray(metaIndex.offset, metaIndex.offset + metaIndex.size + BLOCK_TRAILER_SIZE);
  const meta = new Block(unsealBlock(raw, file, metaIndex.offset), file, metaIndex.offset);
  const c = new BlockCursor(meta);
  const names: Record<string, string> = { [META_FILTER]: 'filter', [META_PROPERTIES]: 'properties', [META_RANGE_DEL]: 'range-del' };
  let firstMeta = metaIndex.offset;
  c.seekToFirst();
  while (c.valid()) {
    const v = c.value();
    const h = decodeBlockHandle({ data: v, pos: 0 }, v.length, footerAt);
    if (h === undefined) throw new Error(`${file}: cannot map regions, bad meta handle`);
    const name = names[new TextDecoder().decode(c.key())] ?? 'meta-other';
    block(name, h);
    firstMeta = Math.min(firstMeta, h.offset);
    c.next();
  }
  // Format v2: the index and filter partitions, named by the top-level index (format.ts).
  const version = le32(bytes, footerAt + 24);
  if (version >= 2) {
    const top = new Block(unsealBlock(bytes.subarray(index.offset, index.offset + index.size + BLOCK_TRAILER_SIZE), file, index.offset), file, index.offset);
    const tc = new BlockCursor(top);
    tc.seekToFirst();
    while (tc.valid()) {
      const v = tc.value();
      const e = decodePartitionEntry({ data: v, pos: 0 }, v.length, footerAt);
      if (e === undefined) throw new Error(`${file}: cannot map regions, bad top-level index entry`);
      block('index-partition', e.index);
      firstMeta = Math.min(firstMeta, e.index.offset);
      if (e.filter !== undefined) {
        block('filter-partition', e.filter);
        firstMeta = Math.min(firstMeta, e.filter.offset);
      }
      tc.next();
    }
  }
  if (firstMeta > 0) regions.push({ name: 'data', start: 0, end: Math.min(firstMeta, index.offset) });
  block('meta-index', metaIndex);
  block(version >= 2 ? 'top-level-index' : 'index', index);
  regions.push({ name: 'footer', start: footerAt, end: bytes.length });
  return regions.sort((a, b) => a.start - b.start);
}

/** Coarse regions of the other kinds: header and body (WAL, manifest), or the whole file. */
export function fileRegions(kind: FileKind, bytes: Uint8Array, file: string): Region[] {
  switch (kind) {
    case 'table':
      try {
        return tableRegions(bytes, file);
      } catch {
        // A table still being written when the image was taken (an orphan recovery deletes):
        // no footer to map it by, so it is one region.
        return bytes.length === 0 ? [] : [{ name: 'incomplete', start: 0, end: bytes.length }];
      }
    case 'wal':
      return [
        { name: 'segment-header', start: 0, end: Math.min(48, bytes.length) },
        ...(bytes.length > 48 ? [{ name: 'records', start: 48, end: bytes.length }] : []),
      ];
    case 'manifest':
      return [
        { name: 'manifest-header', start: 0, end: Math.min(12, bytes.length) },
        ...(bytes.length > 12 ? [{ name: 'edits', start: 12, end: bytes.length }] : []),
      ];
    default:
      return bytes.length === 0 ? [] : [{ name: kind, start: 0, end: bytes.length }];
  }
}
