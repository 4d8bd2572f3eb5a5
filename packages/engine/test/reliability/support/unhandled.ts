/**
 * Collects unhandled rejections and uncaught exceptions while a block runs. A background flush or
 * compaction whose failure nobody awaits must still be caught and reported by the engine (as
 * READ_ONLY on the next write, or from close), never leak out as an unhandled rejection — which
 * in a real program would crash the process.
 */
export interface UnhandledCollector {
  readonly errors: unknown[];
  stop(): void;
}

export function collectUnhandled(): UnhandledCollector {
  const errors: unknown[] = [];
  const onRejection = (reason: unknown): void => {
    errors.push(reason);
  };
  const onException = (err: unknown): void => {
    errors.push(err);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return {
    errors,
    stop: () => {
      process.off('unhandledRejection', onRejection);
      process.off('uncaughtException', onException);
    },
  };
}

/** Lets pending rejections reach the 'unhandledRejection' hook before it is checked. */
export async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}
