/**
 * No promise of the engine may hang, whatever fails below it. Every call the suites make goes
 * through `withTimeout`, which turns a hang into a test failure that names the call.
 */
export class HangError extends Error {
  constructor(what: string, ms: number) {
    super(`${what} did not settle within ${ms} ms (a promise was left hanging)`);
    this.name = 'HangError';
  }
}

export async function withTimeout<T>(what: string, p: Promise<T>, ms = 10_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      reject(new HangError(what, ms));
    }, ms);
  });
  try {
    return await Promise.race([p, hang]);
  } finally {
    clearTimeout(timer);
  }
}
