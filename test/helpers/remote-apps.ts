/**
 * remote-apps — drives test/fixtures/app-host.js (apps in a child process) from a test.
 * Errors come back as IvError-shaped objects with their code.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { IvError, isIvErrorCode } from '../../runtime/errors.js';
import type { ReceiverStats } from '../../client/stream-receiver.js';
import type { AppClientOptions } from '../../client/app-client.js';
import type { DeviceToApp } from '../../shared/protocol/control.js';

const HOST = fileURLToPath(new URL('../fixtures/app-host.js', import.meta.url));

export class RemoteApps {
  private readonly proc: ChildProcess;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  private readonly ready: Promise<void>;
  stderr = '';

  /** `host`: another scriptable fixture speaking the same line protocol (e.g. raw-app). */
  constructor(host = HOST) {
    this.proc = spawn(process.execPath, [host], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.proc.stderr?.on('data', (d: Buffer) => (this.stderr += d.toString()));
    let markReady!: () => void;
    this.ready = new Promise((r) => (markReady = r));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const msg = JSON.parse(line) as { id: number; ok: boolean; value?: unknown; error?: { code: string; message: string } };
      if (msg.id === 0) {
        markReady();
        return;
      }
      const p = this.pending.get(msg.id);
      this.pending.delete(msg.id);
      if (msg.ok) {
        p?.resolve(msg.value);
      } else {
        p?.reject(new IvError(isIvErrorCode(msg.error?.code) ? msg.error.code : 'IV_ERR_INTERNAL', msg.error?.message ?? 'error'));
      }
    });
    this.proc.once('exit', () => {
      for (const p of this.pending.values()) {
        p.reject(new Error(`app host exited: ${this.stderr}`));
      }
      this.pending.clear();
    });
  }

  async call<T>(op: string, fields: Record<string, unknown> = {}, timeoutMs = 30_000): Promise<T> {
    await this.ready;
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new Error(`app host: ${op} timed out`));
      }, timeoutMs);
      this.pending.set(id, {
        resolve: (v) => {
          clearTimeout(timer);
          resolve(v as T);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      });
      this.proc.stdin?.write(`${JSON.stringify({ id, op, ...fields })}\n`);
    });
  }

  /** Connect an app; 30 s unless the test says otherwise: connect speed is benchmarked (ttff), not asserted here. */
  connect(client: string, options: AppClientOptions): Promise<{ connectMs: number }> {
    return this.call('connect', { client, options: { timeoutMs: 30_000, ...options } }, 45_000);
  }

  async open(client: string, params: string, opts: { record?: boolean; ack?: boolean } = {}): Promise<number> {
    return (await this.call<{ stream: number }>('open', { client, params, opts })).stream;
  }

  stats(client: string, stream: number): Promise<ReceiverStats> {
    return this.call('stats', { client, stream });
  }

  async recorded(client: string, stream: number): Promise<Buffer> {
    return Buffer.from(await this.call<string>('recorded', { client, stream }), 'base64');
  }

  /** The client's device-initiated ICE restarts (ms each) and whether it closed. */
  connection(client: string): Promise<{ restarts: { ms: number }[]; restartOffers: number; closed: boolean; voiceDropped: number }> {
    return this.call('connection', { client });
  }

  async command(client: string, text: string, timeoutMs = 5_000): Promise<string> {
    return (await this.call<{ text: string }>('command', { client, text, timeoutMs }, timeoutMs + 5_000)).text;
  }

  events(client: string): Promise<DeviceToApp[]> {
    return this.call('events', { client });
  }

  /**
   * Ask the app host to close its apps and exit; kill it if it has not exited after
   * `graceMs` (node-datachannel's cleanup() can block at process end).
   */
  async exit(graceMs = 3_000): Promise<void> {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) {
      return;
    }
    const exited = new Promise((r) => this.proc.once('exit', r));
    void this.call('exit', {}, graceMs).catch(() => undefined);
    let timer: NodeJS.Timeout | undefined;
    const gone = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), graceMs);
    })]);
    clearTimeout(timer);
    if (!gone) {
      this.proc.kill('SIGKILL');
      await exited;
    }
  }
}
