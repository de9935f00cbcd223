import type { RunProgress } from '@fleet/jobs';
import { SingleBar } from 'cli-progress';

/**
 * The progress bar of `fleet run`: windows done/total, rate, ETA, blocks merged. On a
 * terminal it redraws in place; elsewhere (CI, logs) it prints a line every few seconds.
 */
export class RunProgressBar {
  private readonly bar: SingleBar;
  private readonly started = Date.now();
  private startedBar = false;

  constructor(stream: NodeJS.WriteStream = process.stderr) {
    this.bar = new SingleBar({
      stream,
      format: 'windows {bar} {value}/{total} | {rate} win/s | ETA {eta_formatted} | blocks {merged}/{blocks}',
      barsize: 30,
      hideCursor: stream.isTTY === true,
      noTTYOutput: true,
      notTTYSchedule: 3000,
      etaBuffer: 50,
    });
  }

  update(p: RunProgress): void {
    const finished = p.done + p.skipped + p.failed;
    const seconds = (Date.now() - this.started) / 1000;
    const payload = { rate: seconds > 0 ? (finished / seconds).toFixed(1) : '0.0', merged: p.blocksMerged, blocks: p.blocks };
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
