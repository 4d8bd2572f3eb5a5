/**
 * An LRU cache of parsed, checksum-verified blocks, bounded in bytes and shared by every table
 * of a database. Keyed by (file number, block offset): file numbers are never reused, so an
 * entry can never name the wrong bytes — a deleted table's blocks simply age out (or the engine
 * calls `evictFile`).
 *
 * A hit costs two Map lookups and a list splice; the list is intrusive so nothing is allocated.
 * Cached blocks are immutable and values handed out are views into them: eviction only drops
 * the cache's reference, so a view held by a caller stays valid.
 */
import type { Block } from './block-format.js';
import { TableError } from './errors.js';

class Node {
  prev: Node | null = null;
  next: Node | null = null;
  constructor(
    readonly fileNumber: number,
    readonly offset: number,
    readonly block: Block,
    readonly charge: number,
    readonly shard: Map<number, Node>,
  ) {}
}

export class BlockCache {
  readonly capacity: number;
  private used = 0;
  private readonly files = new Map<number, Map<number, Node>>();
  /** Most recently used at `head`. */
  private head: Node | null = null;
  private tail: Node | null = null;
  hits = 0;
  misses = 0;

  constructor(capacityBytes: number) {
    if (!Number.isSafeInteger(capacityBytes) || capacityBytes < 0) {
      throw new TableError('INVALID_ARGUMENT', `block cache capacity must be a non-negative integer of bytes, got ${capacityBytes}`);
    }
    this.capacity = capacityBytes;
  }

  /** Bytes currently charged. */
  get usage(): number {
    return this.used;
  }

  get(fileNumber: number, offset: number): Block | undefined {
    const node = this.files.get(fileNumber)?.get(offset);
    if (node === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    if (node !== this.head) {
      this.unlink(node);
      this.pushFront(node);
    }
    return node.block;
  }

  /** Adds a block (replacing any at the same key). A block larger than the whole cache is not kept. */
  insert(fileNumber: number, offset: number, block: Block): void {
    const charge = block.charge;
    if (charge > this.capacity) return;
    let shard = this.files.get(fileNumber);
    if (shard === undefined) {
      shard = new Map();
      this.files.set(fileNumber, shard);
    }
    const old = shard.get(offset);
    if (old !== undefined) this.remove(old);
    const node = new Node(fileNumber, offset, block, charge, shard);
    shard.set(offset, node);
    this.pushFront(node);
    this.used += charge;
    while (this.used > this.capacity && this.tail !== null) this.remove(this.tail);
  }

  /** Drops every block of one table (e.g. after the file is deleted). */
  evictFile(fileNumber: number): void {
    const shard = this.files.get(fileNumber);
    if (shard === undefined) return;
    for (const node of [...shard.values()]) this.remove(node);
    this.files.delete(fileNumber);
  }

  clear(): void {
    while (this.tail !== null) this.remove(this.tail);
  }

  private remove(node: Node): void {
    this.unlink(node);
    node.shard.delete(node.offset);
    if (node.shard.size === 0 && this.files.get(node.fileNumber) === node.shard) this.files.delete(node.fileNumber);
    this.used -= node.charge;
  }

  private unlink(node: Node): void {
    if (node.prev !== null) node.prev.next = node.next;
    else this.head = node.next;
    if (node.next !== null) node.next.prev = node.prev;
    else this.tail = node.prev;
    node.prev = node.next = null;
  }

  private pushFront(node: Node): void {
    node.next = this.head;
    node.prev = null;
    if (this.head !== null) this.head.prev = node;
    this.head = node;
    this.tail ??= node;
  }
}
