/**
 * firmware-run — `ivgw run --firmware ./libfw.so [-- args]`: the gateway's device
 * (signaling, P2P, cloud storage on the embedded defaults of `ivgw run`) driven by a C
 * firmware instead of the demo cameras. Returns when iv_firmware_main returns (its value
 * is the exit code), at --seconds, or on SIGINT/SIGTERM (the firmware thread is then
 * abandoned after its modules were exited: their stop callbacks still reach C).
 */
import { randomBytes } from 'node:crypto';
import { FirmwareHost } from './firmware-host.js';
import { mintToken, RIGHTS, startStunResponder, type StoreConfig } from './sdk.js';

export interface FirmwareRunOptions {
  firmware: { path: string; args: string[] };
  seconds: number | undefined;
  deviceId?: string;
  secret?: string;
  mqttPort?: number;
  broker?: string;
  iceBind?: string;
  stun?: string;
  record?: { dir: string; store: StoreConfig };
}

export async function runFirmware(opts: FirmwareRunOptions): Promise<number> {
  const deviceId = opts.deviceId ?? process.env.IVGW_DEVICE_ID ?? 'ivgw-demo';
  const secret = opts.secret ?? process.env.IVGW_DEVICE_SECRET ?? randomBytes(32).toString('base64url');
  const iceBind = opts.iceBind === 'any' ? undefined : opts.iceBind ?? '127.0.0.1';
  // as `ivgw run`: a built-in STUN responder for ICE and the keep-alive unless --stun names one
  const stunResponder = opts.stun ? undefined : await startStunResponder({ host: iceBind ?? '0.0.0.0' });
  const stun = opts.stun ?? `stun:${iceBind ?? '127.0.0.1'}:${stunResponder?.port ?? 3478}`;
  const host = new FirmwareHost({
    path: opts.firmware.path,
    args: opts.firmware.args,
    deviceId,
    secret,
    ...(opts.broker ? { broker: opts.broker } : { mqttPort: opts.mqttPort ?? 1883 }),
    ...(iceBind ? { iceBind } : {}),
    stun,
    ...(opts.record ? { record: opts.record } : {}),
  });
  const token = mintToken(secret, { deviceId, peerId: 'app1', expires: Math.floor(Date.now() / 1000) + 24 * 3600, rights: [...RIGHTS] });
  process.stdout.write(`ivgw: app token (peer app1, 24 h): ${token}\n`);
  try {
    host.start();
  } catch (err) {
    process.stderr.write(`ivgw run: ${(err as Error).message}\n`);
    await stunResponder?.close();
    process.exit(1);
  }
  process.stdout.write(`ivgw: firmware ${opts.firmware.path} started (iv_firmware_main on its own thread)${opts.seconds ? ` for ${opts.seconds} s` : ''}\n`);
  const rc = await new Promise<number>((resolve) => {
    const timer = opts.seconds ? setTimeout(() => resolve(0), opts.seconds * 1000) : undefined;
    const stop = (): void => {
      clearTimeout(timer);
      resolve(0);
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    void host.exited.then((code) => {
      clearTimeout(timer);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      process.stdout.write(`ivgw: iv_firmware_main returned ${code}\n`);
      resolve(code);
    });
  });
  const force = (): never => process.exit(1); // a second signal does not wait for the close
  process.once('SIGINT', force);
  process.once('SIGTERM', force);
  await host.close();
  await stunResponder?.close();
  const c = host.addon.counters();
  process.stdout.write(`ivgw: firmware stopped; send_get calls ${c.sendGetCalls}, buffers freed ${c.freed}\n`);
  // the process-wide P2P host (pinned p2p worker, io worker) and a firmware thread that
  // may still run keep the process alive: leave once the output is out
  await new Promise<void>((r) => process.stdout.write('', () => r()));
  process.exit(rc & 0xff);
}
