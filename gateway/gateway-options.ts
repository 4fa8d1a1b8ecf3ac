/**
 * gateway-options — what a Gateway is made from (the config file, the CLI flags, or an
 * embedder's code all end up here), the defaults it applies, and the typed events it
 * reports while it runs.
 * Owns: those types and defaults. Must never: start anything.
 */
import type { SignalingOptions } from '../actors/p2p/signaling.js';
import type { Watermarks } from '../actors/p2p/watermark.js';
import type { AdmissionLimits } from '../actors/p2p/admission.js';
import type { StoreConfig } from '../actors/cloud/object-store.js';
import type { NetworkEvent } from '../actors/p2p/keep-alive.js';
import type { P2pServiceEvents } from '../actors/p2p/p2p-service.js';
import type { SupervisorEvent } from '../runtime/supervisor.js';
import type { IvError } from '../runtime/errors.js';
import type { CameraConfig, CaptureWorker } from './config/schema.js';

/** Where the cameras' capture actors run (GatewayOptions.captureWorker): every choice, in the order messages list them. */
export const CAPTURE_WORKERS = ['auto', 'own', 'io'] as const satisfies readonly CaptureWorker[];
export type { CaptureWorker };

export interface HostPort {
  host: string;
  port: number;
}

export interface GatewayOptions {
  deviceId?: string;
  secret?: string;
  /** Data directory: device.json, default recording dir (default ./ivgw-data, or the record dir). */
  dataDir?: string;
  /** Embedded broker port (0: any free port). Ignored with `broker`. */
  mqttPort?: number;
  /** Embedded broker addresses; `mqttPort` overrides the first one's port (default 127.0.0.1:1883). */
  brokerListen?: HostPort[];
  /** Embedded broker TLS (mqtts) listeners with the certificate and key files. */
  brokerTls?: { cert: string; key: string; listen: HostPort[] };
  /** Embedded broker MQTT-over-WebSocket listeners (browsers). */
  brokerWebsocket?: HostPort[];
  /** An external broker's URL instead of the embedded one. */
  broker?: string;
  /** Credentials / TLS for the external broker. */
  brokerOptions?: NonNullable<SignalingOptions['connectOptions']>;
  /** ICE bind address (default 127.0.0.1); `any` or `0.0.0.0` binds every interface. */
  iceBind?: string;
  /** STUN server for ICE and the keep-alive (`stun:host:port`); default: the built-in responder. */
  stun?: string;
  /** More ICE servers (TURN as `turn:user:pass@host:port`). */
  iceServers?: string[];
  icePortRange?: { begin: number; end: number };
  /** p2p_keep_alive_cfg; default 5 s × 3 probes (the spec's recommendation); 0 turns it off. */
  keepAlive?: { timeInterS: number; maxAttemptNum: number };
  /** Per stream; default DEFAULT_WATERMARKS (200 / 400 / 500 KiB); all zero disables. */
  watermarks?: Watermarks;
  admission?: AdmissionLimits;
  /** This long after a burst of departures, the p2p worker and the main thread collect (V8's low-memory notification) and freed native memory goes back to the system (malloc_trim); default 2000; 0: never. */
  trimAfterLeaveMs?: number;
  /** Every this long, freed native memory over 1 MiB goes back to the system (malloc_trim); default 60000; 0: never. */
  trimEveryMs?: number;
  /**
   * At each of those looks, also drop the resident code pages (node's, its libraries', the
   * addons') from the process; what runs maps back on its next access, from the page cache
   * (runtime/allocator.ts). Default true; it acts on the whole process.
   */
  dropIdleCode?: boolean;
  /**
   * Where the cameras' capture actors run: `own`, a worker of their own, so a capture that
   * stalls or crashes never touches commands, voice or recording; `io`, on the io worker
   * with those, one isolate less (bench footprint measures both); `auto` (default): `io`
   * on a machine of 2 cores or fewer (`os.availableParallelism()`), where the gateway's
   * threads share the cores anyway, `own` on a bigger one.
   */
  captureWorker?: CaptureWorker;
  /** Channel 0 plays this H.264/H.265 elementary stream file (looped, no audio) instead of the demo camera. */
  video?: { file: string; codec: 'h264' | 'h265'; fps: number };
  /** Record (full time unless a camera says otherwise) and upload; absent: no recording. */
  record?: { dir: string; store: StoreConfig };
  /** The configured cameras; absent: the two demo cameras. */
  cameras?: CameraConfig[];
  /** The HTTP server (/metrics, /healthz, /api/status, and the browser viewer at `/` from `staticDir`, default the bundled one); absent: none. */
  /** `openHealth`: `/healthz` answers without the bearer token (probes that cannot send it). */
  http?: { listen: string; bearerToken?: string; openHealth?: boolean; staticDir?: string };
}

/**
 * The spec's example (`iv_avt_p2p_set_buf_watermark(200 * 1024, 400 * 1024, 500 * 1024)`):
 * ≈ 0.8, 1.6 and 2 s of a 2 Mbit/s stream. With them an app on a link slower than its
 * camera costs the gateway ~1 MB at most (`npm run bench -- weak-network`), within the
 * spec's `1 × 512 KB + 732 KB`; with 256 KiB / 512 KiB / 1 MiB it cost ~1.6 MB.
 */
export const DEFAULT_WATERMARKS: Watermarks = { low: 200 * 1024, warn: 400 * 1024, high: 500 * 1024 };

/** p2p_keep_alive_cfg as the spec recommends it. */
export const DEFAULT_KEEP_ALIVE = { timeInterS: 5, maxAttemptNum: 3 } as const;

export type GatewayLogLevel = 'debug' | 'info' | 'warn' | 'error';

/**
 * One thing that happened, for a log: `component` says where (`ivgw`, `broker`, `p2p`,
 * `supervisor`, a camera's name, `peer app1`, `cloud door`…), `msg` says it in words,
 * `fields` carry the same facts for machines. Never a secret or a token.
 */
export interface GatewayLogRecord {
  level: GatewayLogLevel;
  component: string;
  msg: string;
  fields?: Record<string, unknown>;
}

/** A camera's capture event (CAPTURE_EVENT). */
export interface CameraEvent {
  camera: string;
  type: 'rejected' | 'source-exit' | 'source-restart' | 'source-ended' | 'source-up' | 'format' | 'ring-tight';
  code?: string;
  message?: string;
  detail?: unknown;
}

export type GatewayEvents = {
  /** Every record the gateway would log (the CLI writes them with pino). */
  log: [record: GatewayLogRecord];
  camera: [event: CameraEvent];
  peer: P2pServiceEvents['peer'];
  network: [event: NetworkEvent];
  supervisor: [event: SupervisorEvent];
  /** A cloud actor's notice (sessions, uploads, upload failures, overruns). */
  cloud: [camera: string, notice: { type: string; key?: string; message?: string; what?: string; ms?: number }];
  /** The pinned p2p worker died, or a supervisor gave up: the gateway cannot go on. */
  fatal: [error: IvError];
};

/** What a started gateway tells about itself (nothing secret). */
export interface GatewayInfo {
  deviceId: string;
  /** The broker URL apps use (the embedded broker's first listener, or the external one). */
  brokerUrl: string;
  /** The embedded broker's MQTT-over-WebSocket URLs (browsers); empty without. */
  websocketUrls: string[];
  stunUrl: string;
  /** The DTLS certificate's fingerprint apps may pin. */
  fingerprint: string;
  /** device.json, or undefined when the identity came from a secret given for this run. */
  identityFile: string | undefined;
  channels: { channel: number; camera: string; recording: 'full-time' | 'events' | 'off' }[];
  /** The HTTP server's URL, when it runs. */
  httpUrl: string | undefined;
  /** Where the cameras are captured: on a worker of their own, or on io (`captureWorker`, `auto` resolved). */
  captureWorker: 'own' | 'io';
}
