/**
 * The iterators a database has handed out and that are not closed yet, held weakly: an
 * iterator its user dropped without close() must not stay pinned by us. A FinalizationRegistry
 * then releases its Version and snapshot (late, but files do not leak forever); close() of the
 * database closes those still alive.
 */
import type { DbIterator } from './db-iterator.js';

/** Process-wide: the release of each collected iterator, keyed by the iterator itself. */
const forgotten = new FinalizationRegistry<() => void>((release) => {
  release();
});

export class OpenIterators {
  private readonly live = new Map<number, WeakRef<DbIterator>>();
  private nextId = 1;

  /** Iterators not closed (nor collected) yet. */
  get size(): number {
    return this.live.size;
  }

  /**
   * Creates an iterator with `create` and tracks it. `release` (what the iterator holds) runs
   * once: when the iterator is closed, or when it was garbage collected unclosed. It must not
   * reference the iterator: the registry holds `release` strongly.
   */
  track(release: () => void, create: (onClose: (closed: DbIterator) => void) => DbIterator): DbIterator {
    const id = this.nextId++;
    let released = false;
    const once = (): void => {
      if (released) return;
      released = true;
      this.live.delete(id);
      release();
    };
    const it = create((closed) => {
      forgotten.unregister(closed);
      once();
    });
    this.live.set(id, new WeakRef(it));
    forgotten.register(it, once, it);
    return it;
  }

  closeAll(): void {
    for (const ref of [...this.live.values()]) ref.deref()?.close();
  }
}
