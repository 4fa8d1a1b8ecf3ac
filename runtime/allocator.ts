/**
 * allocator — giving freed native memory back to the system, and reading what the C
 * allocator holds. glibc keeps what it frees in its arenas: after apps leave, the memory
 * their data channels took (libdatachannel, usrsctp, OpenSSL buffers) stays in the
 * process's RSS at its high-water mark. malloc_trim(0) (the iv_mem addon,
 * native/src/mem.cc) releases the free pages of every arena.
 *
 * And the code pages: node, its libraries and the addons are mapped from their files, and
 * every page start-up touched stays in the process's RSS (`ivgw run`: 44 MB, of which 12 MB
 * were touched again in the next minute). dropCleanFilePages() takes the resident pages
 * that are still the file's own out of the process (madvise MADV_DONTNEED, native/src/mem.cc);
 * they stay in the kernel's page cache and the next access maps one back (a minor fault).
 *
 * Owns: loading iv_mem once, lazily; `TrimAfterLeave`, one trim a while after the last of
 * a burst of departures (after the caller's release, which lets the isolates that held the
 * apps collect: runtime/heap.ts releaseHeap); `PeriodicTrim`, a look every so often that trims when enough is
 * free (start-up, a worker that came and went, a spent burst of frames) and drops the code
 * pages not used since the last look.
 * Must never: load the addon at import (the package's entries load no addon), or throw
 * when it is missing (not built, or a C library without malloc_trim): then it answers
 * undefined and trims nothing.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

export interface AllocatorStats {
  /** Bytes the allocator took from the system (arenas and mmapped blocks). */
  arenaBytes: number;
  inUseBytes: number;
  /** Free inside the arenas: what a trim may give back. */
  freeBytes: number;
}

interface MemAddon {
  /** src's bytes into dst from byte `offset` with libc memcpy (either over shared memory); RangeError outside dst. */
  copyInto(dst: Uint8Array, offset: number, src: Uint8Array): void;
  setThreadName(name: string): boolean;
  trim(): boolean;
  /** V8's low-memory notification to the calling thread's isolate (runtime/heap.ts); false without one. */
  lowMemory?(): boolean;
  dropCleanFilePages(): { mappings: number; bytes: number } | undefined;
  stats(): { glibc: boolean; arenaBytes?: number; inUseBytes?: number; freeBytes?: number };
}

export const MEM_ADDON_PATH = fileURLToPath(new URL('../../native/build/Release/iv_mem.node', import.meta.url));

let addon: MemAddon | null | undefined;

/** The iv_mem addon, loaded on first use; undefined where it is not built (thread-name.ts and frame-ring.ts use it too). */
export function loadMemAddon(): MemAddon | undefined {
  if (addon === undefined) {
    try {
      addon = createRequire(import.meta.url)(MEM_ADDON_PATH) as MemAddon;
    } catch {
      addon = null;
    }
  }
  return addon ?? undefined;
}

/** malloc_trim(0): true if memory went back to the system, false if none did, undefined if this build cannot. */
export function trimAllocator(): boolean | undefined {
  return loadMemAddon()?.trim();
}

/**
 * The process's resident pages that are an unmodified copy of a read-only private file
 * mapping (code, read-only data) out of its page tables; what was resident in the mappings
 * dropped, or undefined where this build or system cannot (then nothing is dropped).
 */
export function dropCleanFilePages(): { mappings: number; bytes: number } | undefined {
  return loadMemAddon()?.dropCleanFilePages?.();
}

/** What the C allocator holds right now, or undefined where it cannot say. */
export function allocatorStats(): AllocatorStats | undefined {
  const s = loadMemAddon()?.stats();
  if (!s?.glibc) {
    return undefined;
  }
  return { arenaBytes: s.arenaBytes ?? 0, inUseBytes: s.inUseBytes ?? 0, freeBytes: s.freeBytes ?? 0 };
}

/** What a TrimAfterLeave has done: trims (and those that gave memory back), releases asked of the isolates, their time summed and the last one's (ms). */
export interface TrimAfterLeaveCounts {
  trims: number;
  released: number;
  releases: number;
  releaseMs: number;
  lastReleaseMs: number;
}

/**
 * One trim `delayMs` after the last `left()` of a burst (apps leave in bursts; a trim
 * walks every arena, so not one per app). Before it, `release` (when given) lets the
 * isolates that held the apps collect what they no longer reach: their V8 heaps shrink,
 * and the finalizers of the closed connections' wrappers free the native memory behind
 * them, which the trim then gives back (bench weak-network, 20 stalled apps: 15 s after
 * they went 16.2 MB of anonymous memory stayed with the trim alone, 10.0 MB with the
 * release before it). A release that
 * fails or hangs past `delayMs` does not keep the trim from running. Timers are
 * unref'd: it never keeps a process up.
 */
export class TrimAfterLeave {
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly counts: TrimAfterLeaveCounts = { trims: 0, released: 0, releases: 0, releaseMs: 0, lastReleaseMs: 0 };

  constructor(
    private readonly delayMs: number,
    private readonly release?: () => Promise<unknown>,
  ) {}

  left(): void {
    if (this.delayMs <= 0 || this.closed) {
      return;
    }
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.releaseThenTrim();
    }, this.delayMs);
    this.timer.unref();
  }

  private async releaseThenTrim(): Promise<void> {
    if (this.release) {
      const t0 = performance.now();
      let bound: NodeJS.Timeout | undefined;
      await Promise.race([
        this.release().catch(() => undefined),
        new Promise<void>((r) => {
          bound = setTimeout(r, this.delayMs);
          bound.unref();
        }),
      ]);
      clearTimeout(bound);
      const ms = performance.now() - t0;
      this.counts.releases++;
      this.counts.releaseMs += ms;
      this.counts.lastReleaseMs = Math.round(ms);
    }
    if (this.closed) {
      return;
    }
    const r = trimAllocator();
    if (r !== undefined) {
      this.counts.trims++;
      this.counts.released += r ? 1 : 0;
    }
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
  }
}

/**
 * Every `everyMs`, a trim when the arenas hold at least `minFreeBytes` free (mallinfo2),
 * and, with `dropCode`, the code pages dropped (dropCleanFilePages): what runs is mapped
 * back within the minute, what does not stays out. `ivgw run` idle, 180 s: RSS 92 MB
 * without it, 66 MB with it (node's file pages 44 → 19 MB), 2.6 k more minor faults.
 * The free count includes chunks whose pages an earlier trim already gave back, so a
 * process that freed much trims at every look: 0.2–0.4 ms each once there is little
 * left to give (7 ms for the first of 140 MB). `ivgw run` idle: 104.2 → 98.6 MB RSS by
 * one trim 40 s after start. The timer is unref'd.
 */
/** What a PeriodicTrim has done: looks, trims (and those that gave memory back), code-page drops and their resident bytes summed. */
export interface PeriodicTrimCounts {
  checks: number;
  trims: number;
  released: number;
  codeDrops: number;
  codeBytesDropped: number;
}

export class PeriodicTrim {
  private readonly timer: NodeJS.Timeout | undefined;
  readonly counts: PeriodicTrimCounts = { checks: 0, trims: 0, released: 0, codeDrops: 0, codeBytesDropped: 0 };

  constructor(everyMs: number, private readonly minFreeBytes = 1024 * 1024, private readonly dropCode = false) {
    if (everyMs > 0 && loadMemAddon()) {
      this.timer = setInterval(() => this.check(), everyMs);
      this.timer.unref();
    }
  }

  /** One look now (also what the timer runs). */
  check(): void {
    this.counts.checks++;
    const free = allocatorStats()?.freeBytes ?? 0;
    if (free >= this.minFreeBytes) {
      const r = trimAllocator();
      this.counts.trims++;
      this.counts.released += r ? 1 : 0;
    }
    if (this.dropCode) {
      const d = dropCleanFilePages();
      if (d) {
        this.counts.codeDrops++;
        this.counts.codeBytesDropped += d.bytes;
      }
    }
  }

  close(): void {
    clearInterval(this.timer);
  }
}
