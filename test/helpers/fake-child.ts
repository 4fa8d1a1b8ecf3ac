/**
 * fake-child — a supervised child whose exits and stop behaviour a test controls.
 * For supervisor logic tests only; the fault tests use real workers.
 */
import type { Child, ExitInfo } from '../../runtime/supervisor.js';
import { IvError } from '../../runtime/errors.js';

export class FakeChild implements Child {
  stopped = false;
  killed = false;
  private listeners: ((info: ExitInfo) => void)[] = [];

  constructor(
    readonly id: string,
    readonly incarnation: number,
    private readonly log: string[],
    private readonly stopBehaviour: 'ok' | 'hang' = 'ok',
  ) {}

  stop(): Promise<void> {
    this.log.push(`stop ${this.id}`);
    this.stopped = true;
    return this.stopBehaviour === 'hang' ? new Promise(() => undefined) : Promise.resolve();
  }

  kill(): void {
    this.log.push(`kill ${this.id}`);
    this.killed = true;
  }

  onExit(listener: (info: ExitInfo) => void): void {
    this.listeners.push(listener);
  }

  crash(reason = 'crash'): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) {
      l({ normal: false, reason, error: new IvError('IV_ERR_ACTOR_CRASHED', `${this.id} crashed`) });
    }
  }

  exitNormally(): void {
    const listeners = this.listeners;
    this.listeners = [];
    for (const l of listeners) {
      l({ normal: true, reason: 'normal' });
    }
  }
}

/** A registry of fake children by id, recording starts and stops in `log`. */
export class FakeFamily {
  readonly log: string[] = [];
  readonly current = new Map<string, FakeChild>();
  readonly starts = new Map<string, number>();
  failNextStarts = new Map<string, number>();
  stopBehaviour = new Map<string, 'ok' | 'hang'>();

  spec(id: string, restart: 'permanent' | 'transient' | 'temporary' = 'permanent', extra: { pinned?: boolean; shutdownMs?: number } = {}) {
    return {
      id,
      restart,
      ...extra,
      start: async () => {
        const n = (this.starts.get(id) ?? 0) + 1;
        this.starts.set(id, n);
        const fails = this.failNextStarts.get(id) ?? 0;
        if (fails > 0) {
          this.failNextStarts.set(id, fails - 1);
          this.log.push(`start-fail ${id}`);
          throw new Error(`${id} refuses to start`);
        }
        this.log.push(`start ${id}`);
        const child = new FakeChild(id, n, this.log, this.stopBehaviour.get(id) ?? 'ok');
        this.current.set(id, child);
        return child;
      },
    };
  }

  child(id: string): FakeChild {
    const c = this.current.get(id);
    if (!c) {
      throw new Error(`no child ${id}`);
    }
    return c;
  }
}

/** Let queued promise work (supervisor queues) run. */
export async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise((r) => setImmediate(r));
  }
}
