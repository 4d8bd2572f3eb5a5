// Type declarations for the untyped test-only modules the tape runner uses.
declare module 'tape' {
  interface Stream {
    on(event: 'data', listener: (chunk: string | Buffer) => void): Stream;
    on(event: 'end', listener: () => void): Stream;
  }
  interface Tape {
    (name: string, cb: (t: unknown) => unknown): void;
    createStream(options?: { objectMode?: boolean }): Stream;
    onFinish(cb: () => void): void;
  }
  const tape: Tape;
  export default tape;
}

declare module 'abstract-level/test/index.js' {
  interface SuiteOptions {
    test: unknown;
    factory: (options?: Record<string, unknown>) => unknown;
  }
  const suite: (options: SuiteOptions) => void;
  export default suite;
}
