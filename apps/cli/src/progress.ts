import type { RunProgress } from '@fleet/jobs';
import { SingleBar } from 'cli-progress';
import { formatEta, formatRate } from './rate-format';

/** No window finished for this long: the run is stalled and an ETA would be a guess. */
export const STALL_MS = 30_000;

// the formatters live apart from the bar so `fleet status` uses them without loading cli-progress
export { formatDuration, formatEta, formatRate } from './rate-format';

/**
 * The progress bar of `fleet run`: windows done/total, rate, ETA, blocks merged. On a
 * terminal it redraws in place; elsewhere (CI, logs) it prints a line every few seconds.
 * Rate and ETA are computed here, not by cli-progress, whose ETA reads `NF`/`INF` before the
 * first window and when the count stops moving.
 */
export class RunProgressBar {
  private readonly bar: SingleBar;
  private readonly started: number;
  private startedBar = false;
  private lastFinished = 0;
  private lastChange: number;

  constructor(stream: NodeJS.WriteStream = process.stderr, private readonly now: () => number = Date.now) {
    this.started = now();
    this.lastChange = this.started;
    this.bar = new SingleBar({
      stream,
      format: 'windows {bar} {value}/{total} | {rate} win/s | ETA {eta_text} | blocks {merged}/{blocks}',
      barsize: 30,
      hideCursor: stream.isTTY === true,
      noTTYOutput: true,
      notTTYSchedule: 3000,
    });
  }

  /** The payload shown for `p` (exported through the bar; tested directly). */
  payload(p: RunProgress): { finished: number; rate: string; eta_text: string; merged: number; blocks: number } {
    const now = this.now();
    const finished = p.done + p.skipped + p.failed;
    if (finished !== this.lastFinished) {
      this.lastFinished = finished;
      this.lastChange = now;
    }
    const seconds = (now - this.started) / 1000;
    const rate = finished > 0 && seconds > 0 ? finished / seconds : 0;
    const stalled = finished > 0 && now - this.lastChange > STALL_MS;
    return { finished, rate: formatRate(rate), eta_text: formatEta(p.windows - finished, rate, stalled), merged: p.blocksMerged, blocks: p.blocks };
  }

  update(p: RunProgress): void {
    const { finished, ...payload } = this.payload(p);
    if (!this.startedBar) {
      this.bar.start(p.windows, finished, payload);
      this.startedBar = true;
    } else {
      this.bar.update(finished, payload);
    }
  }

  stop(): void {
    if (this.startedBar) this.bar.stop();
  }
}
