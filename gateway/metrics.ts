/**
 * metrics — the gateway's Prometheus metrics (prom-client), served at `/metrics`.
 *
 * Owns: one Registry per gateway with every metric the operate docs list, fed two ways:
 * - at scrape time from snapshots the gateway already keeps (camera stats, the peers'
 *   shared send-stats blocks, cloud stats, worker heartbeats): `collect` callbacks read
 *   them, so nothing is added to the frame path or the 10 ms tick;
 * - from events the gateway already emits (supervisor events, peer events, refused
 *   offers, answered commands, connect times): one counter increment or histogram
 *   observation each, on the main thread.
 * Must never: call into an actor on the data path, hold a reference to a frame, or put
 * a peer id, token or other unbounded value into a label (labels: camera, channel,
 * code, state, level, reason, what, type, child, worker — bounded sets).
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { allocatorStats, type AllocatorStats, type PeriodicTrimCounts, type TrimAfterLeaveCounts } from '../runtime/allocator.js';

/** What the gateway can tell about itself at scrape time. */
export interface MetricsSources {
  cameras(): Promise<CameraSnapshot[]>;
  p2p(): P2pSnapshot | undefined;
  cloud(): Promise<CloudSnapshot[]>;
  /** Heap used per worker thread (from their heartbeats). */
  workers(): { worker: string; heapUsed: number }[];
  /** What the periodic memory look (memory.trimEvery) has done so far; undefined before start. */
  memoryLooks(): Readonly<PeriodicTrimCounts> | undefined;
  /** What the release and trim after bursts of departures (memory.trimAfterLeave) have done; undefined while p2p is not up. */
  afterLeave(): Readonly<TrimAfterLeaveCounts> | undefined;
}

export interface CameraSnapshot {
  camera: string;
  channel: number;
  fps: number;
  videoKbps: number;
  audioKbps: number;
  framesAccepted: number;
  /** Refused frames by IV_ERR_* code. */
  rejected: Record<string, number>;
  /** connecting / up / retrying / ended (1 for the current one). */
  state: string;
  restarts: number;
  /** Data bytes of the camera's frame ring ever written to: the memory it holds. */
  ringResidentBytes: number;
}

export interface P2pSnapshot {
  appsConnected: number;
  streamsOpen: number;
  bytesSent: number;
  bytesAcked: number;
  backlogBytes: number;
  /** Keep-alive: up / down / connecting / off. */
  keepAlive: string;
}

export interface CloudSnapshot {
  camera: string;
  segmentsAccepted: number;
  uploaded: number;
  pending: number;
  uploadFailures: number;
  spoolBytes: number;
}

const SOURCE_STATES = ['connecting', 'up', 'retrying', 'ended'] as const;
const KEEPALIVE_STATES = ['up', 'down', 'connecting', 'off'] as const;

export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly watermarks: Counter<'level'>;
  private readonly refused: Counter<'reason'>;
  private readonly brokerRefusals: Counter<'what'>;
  private readonly commands: Counter;
  private readonly intercom: Counter;
  private readonly supervisor: Counter<'type' | 'child'>;
  private readonly connectTime: Histogram;
  private readonly firstFrame: Histogram;
  private readonly uploadLatency: Histogram;

  constructor(private readonly sources: MetricsSources) {
    const r = [this.registry];
    const src = this.sources;
    collectDefaultMetrics({ register: this.registry, prefix: 'ivgw_' });
    const cams = async (): Promise<CameraSnapshot[]> => src.cameras().catch(() => []);
    const camGauge = (name: string, help: string, pick: (c: CameraSnapshot) => number): void => {
      new Gauge({
        name, help, labelNames: ['camera', 'channel'], registers: r,
        async collect() {
          this.reset();
          for (const c of await cams()) {
            this.set({ camera: c.camera, channel: String(c.channel) }, pick(c));
          }
        },
      });
    };
    camGauge('ivgw_camera_fps', 'Video frames per second of the camera', (c) => c.fps);
    camGauge('ivgw_camera_bitrate_kbps', 'Video + audio bitrate of the camera in kbit/s', (c) => c.videoKbps + c.audioKbps);
    camGauge('ivgw_camera_frames_accepted', 'Frames the camera published into its ring', (c) => c.framesAccepted);
    camGauge('ivgw_camera_source_restarts', 'Times the camera source was restarted', (c) => c.restarts);
    camGauge('ivgw_camera_ring_resident_bytes', 'Bytes of the camera frame ring ever written to (the memory it holds; low bitrates cycle through part of it)', (c) => c.ringResidentBytes);
    new Gauge({
      name: 'ivgw_camera_frames_refused', help: 'Frames refused by the SDK input rules, by code', labelNames: ['camera', 'code'], registers: r,
      async collect() {
        this.reset();
        for (const c of await cams()) {
          for (const [code, n] of Object.entries(c.rejected)) {
            this.set({ camera: c.camera, code }, n);
          }
        }
      },
    });
    new Gauge({
      name: 'ivgw_camera_source_state', help: 'The camera source state (1 for the current one)', labelNames: ['camera', 'state'], registers: r,
      async collect() {
        this.reset();
        for (const c of await cams()) {
          for (const s of SOURCE_STATES) {
            this.set({ camera: c.camera, state: s }, c.state === s ? 1 : 0);
          }
        }
      },
    });
    const p2pGauge = (name: string, help: string, pick: (p: P2pSnapshot) => number): void => {
      new Gauge({
        name, help, registers: r,
        collect() {
          const p = src.p2p();
          this.set(p ? pick(p) : 0);
        },
      });
    };
    p2pGauge('ivgw_p2p_apps_connected', 'Apps with a peer connection', (p) => p.appsConnected);
    p2pGauge('ivgw_p2p_streams_open', 'Streams open over all apps', (p) => p.streamsOpen);
    p2pGauge('ivgw_p2p_bytes_sent', 'Payload bytes sent on the open streams', (p) => p.bytesSent);
    p2pGauge('ivgw_p2p_bytes_acked', 'Payload bytes the apps acknowledged on the open streams', (p) => p.bytesAcked);
    for (const [name, help, pick] of [
      ['ivgw_native_heap_in_use_bytes', 'Bytes the C allocator (glibc malloc, every arena) has handed out: node-datachannel, OpenSSL, the addons', (a: AllocatorStats) => a.inUseBytes],
      ['ivgw_native_heap_free_bytes', 'Bytes free inside the C allocator\'s arenas, counted in RSS until trimmed (memory.trimAfterLeave)', (a: AllocatorStats) => a.freeBytes],
    ] as const) {
      new Gauge({
        name, help, registers: r,
        collect() {
          const a = allocatorStats();
          this.set(a ? pick(a) : 0);
        },
      });
    }
    // cumulative counts kept by the memory look and the trim after departures themselves: each scrape sets the counter to them
    const counted = <T>(read: () => Readonly<T> | undefined, rows: readonly (readonly [string, string, (m: Readonly<T>) => number])[]): void => {
      for (const [name, help, pick] of rows) {
        new Counter({
          name, help, registers: r,
          collect() {
            this.reset();
            const m = read();
            this.inc(m ? pick(m) : 0);
          },
        });
      }
    };
    counted<PeriodicTrimCounts>(() => src.memoryLooks(), [
      ['ivgw_memory_looks_total', 'Periodic memory looks (memory.trimEvery)', (m) => m.checks],
      ['ivgw_memory_trims_total', 'Looks that found enough free in the C allocator to trim it (malloc_trim)', (m) => m.trims],
      ['ivgw_memory_code_drops_total', 'Looks that dropped the resident code pages still their file\'s own (memory.dropIdleCode)', (m) => m.codeDrops],
      ['ivgw_memory_code_dropped_bytes_total', 'Resident bytes of those code pages at each drop, summed (what the kernel re-reads on use)', (m) => m.codeBytesDropped],
    ]);
    counted<TrimAfterLeaveCounts>(() => src.afterLeave(), [
      ['ivgw_memory_after_leave_releases_total', 'Bursts of departures after which the p2p worker and the main thread collected (V8 low-memory notification) before the trim', (m) => m.releases],
      ['ivgw_memory_after_leave_release_seconds_total', 'Time those collections took, summed (the p2p worker stops for its part)', (m) => m.releaseMs / 1000],
      ['ivgw_memory_after_leave_trims_total', 'Trims of the C allocator after bursts of departures (malloc_trim)', (m) => m.trims],
    ]);
    p2pGauge('ivgw_p2p_backlog_bytes', 'Bytes sent but not yet acknowledged, over all open streams', (p) => p.backlogBytes);
    new Gauge({
      name: 'ivgw_p2p_keepalive_state', help: 'P2P keep-alive state (1 for the current one)', labelNames: ['state'], registers: r,
      collect() {
        const now = src.p2p()?.keepAlive ?? 'off';
        for (const s of KEEPALIVE_STATES) {
          this.set({ state: s }, now === s ? 1 : 0);
        }
      },
    });
    this.watermarks = new Counter({ name: 'ivgw_p2p_watermark_events_total', help: 'Watermark events by level', labelNames: ['level'], registers: r });
    this.refused = new Counter({ name: 'ivgw_p2p_offers_refused_total', help: 'Signaling requests refused, by reason code', labelNames: ['reason'], registers: r });
    this.brokerRefusals = new Counter({ name: 'ivgw_broker_refused_total', help: 'Embedded broker refusals (connect, publish, subscribe)', labelNames: ['what'], registers: r });
    this.commands = new Counter({ name: 'ivgw_p2p_commands_answered_total', help: 'App commands answered', registers: r });
    this.intercom = new Counter({ name: 'ivgw_p2p_intercom_sessions_total', help: 'Intercom sessions ended', registers: r });
    this.connectTime = new Histogram({ name: 'ivgw_p2p_connect_seconds', help: 'Offer received to peer connection up', buckets: [0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10], registers: r });
    this.firstFrame = new Histogram({ name: 'ivgw_p2p_first_frame_seconds', help: 'Stream open to its first frame sent', buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5], registers: r });
    this.supervisor = new Counter({ name: 'ivgw_supervisor_events_total', help: 'Supervisor restarts and escalations by child', labelNames: ['type', 'child'], registers: r });
    const cloudGauge = (name: string, help: string, pick: (c: CloudSnapshot) => number): void => {
      new Gauge({
        name, help, labelNames: ['camera'], registers: r,
        async collect() {
          this.reset();
          for (const c of await src.cloud().catch(() => [])) {
            this.set({ camera: c.camera }, pick(c));
          }
        },
      });
    };
    cloudGauge('ivgw_cloud_segments_accepted', 'Segments accepted into the local recording', (c) => c.segmentsAccepted);
    cloudGauge('ivgw_cloud_objects_uploaded', 'Objects the store confirmed', (c) => c.uploaded);
    cloudGauge('ivgw_cloud_objects_pending', 'Objects waiting for upload', (c) => c.pending);
    cloudGauge('ivgw_cloud_upload_failures', 'Upload attempts that failed', (c) => c.uploadFailures);
    cloudGauge('ivgw_cloud_spool_bytes', 'Bytes of the local recording not yet uploaded', (c) => c.spoolBytes);
    this.uploadLatency = new Histogram({ name: 'ivgw_cloud_upload_seconds', help: 'Segment accepted to upload confirmed', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30], registers: r });
    new Gauge({
      name: 'ivgw_worker_heap_used_bytes', help: 'V8 heap used per worker thread (last heartbeat)', labelNames: ['worker'], registers: r,
      collect() {
        this.reset();
        for (const w of src.workers()) {
          this.set({ worker: w.worker }, w.heapUsed);
        }
      },
    });
  }

  watermark(level: string): void {
    this.watermarks.inc({ level });
  }

  offerRefused(reason: string): void {
    this.refused.inc({ reason });
  }

  brokerRefused(what: string): void {
    this.brokerRefusals.inc({ what });
  }

  commandAnswered(): void {
    this.commands.inc();
  }

  intercomEnded(): void {
    this.intercom.inc();
  }

  connected(ms: number): void {
    this.connectTime.observe(ms / 1000);
  }

  firstFrameSent(ms: number): void {
    this.firstFrame.observe(ms / 1000);
  }

  uploaded(ms: number): void {
    this.uploadLatency.observe(ms / 1000);
  }

  /** Supervisor events; peers are counted as one child kind (`peer`) so labels stay bounded. */
  supervisorEvent(type: string, child: string): void {
    if (type === 'restart' || type === 'escalate' || type === 'exit') {
      this.supervisor.inc({ type, child: child.startsWith('peer:') ? 'peer' : child });
    }
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
