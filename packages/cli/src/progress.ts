/**
 * Progress of a long command (compact, verify): bytes done of a total, rate and ETA. On a
 * terminal it is cli-progress's bar, redrawn in place on stderr; otherwise (a pipe, a log
 * file, CI) one plain line at most every `lineIntervalMs`, plus the last one, so logs stay
 * readable. With --json nothing is drawn: stdout carries only the result.
 */
import { SingleBar } from 'cli-progress';
import { formatBytes } from './terminal.js';

export interface Progress {
  update(done: number, total?: number): void;
  stop(): void;
}

export function startProgress(label: string, total: number, mode: { tty: boolean; quiet: boolean; write: (line: string) => void; lineIntervalMs?: number }): Progress {
  if (mode.quiet) return { update: () => undefined, stop: () => undefined };
  const started = performance.now();
  const rateEta = (done: number, tot: number): { rate: string; eta: string } => {
    const secs = (performance.now() - started) / 1000;
    const rate = secs > 0 ? done / secs : 0;
    const eta = rate > 0 && tot > done ? `${Math.ceil((tot - done) / rate)}s` : done >= tot ? '0s' : '?';
    return { rate: `${formatBytes(Math.round(rate))}/s`, eta };
  };
  if (mode.tty) {
    const bar = new SingleBar({
      format: `${label} [{bar}] {percentage}% | {doneText} / {totalText} | {rateText} | ETA {etaText}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: false,
      barsize: 30,
    });
    let tot = total;
    const fields = (done: number): Record<string, string> => {
      const { rate, eta } = rateEta(done, tot);
      return { doneText: formatBytes(done), totalText: formatBytes(tot), rateText: rate, etaText: eta };
    };
    bar.start(Math.max(tot, 1), 0, fields(0));
    return {
      update(done, newTotal) {
        if (newTotal !== undefined && newTotal !== tot) {
          tot = newTotal;
          bar.setTotal(Math.max(tot, 1));
        }
        bar.update(Math.min(done, tot), fields(done));
      },
      stop() {
        bar.stop();
      },
    };
  }
  const interval = mode.lineIntervalMs ?? 1000;
  let last = -Infinity;
  let tot = total;
  let lastDone = -1;
  let pending = 0;
  const line = (done: number): void => {
    const { rate, eta } = rateEta(done, tot);
    const pct = tot > 0 ? Math.min(100, Math.floor((done / tot) * 100)) : 100;
    mode.write(`${label}: ${formatBytes(done)} / ${formatBytes(tot)} (${pct}%), ${rate}, ETA ${eta}`);
    lastDone = done;
  };
  return {
    update(done, newTotal) {
      if (newTotal !== undefined) tot = newTotal;
      const now = performance.now();
      if (now - last >= interval) {
        last = now;
        line(done);
      }
      pending = done;
    },
    stop() {
      if (pending !== lastDone) line(pending);
    },
  };
}
