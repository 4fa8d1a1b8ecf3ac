/**
 * token — `ivgw token --peer ID [--rights live,playback,voice,command] [--ttl DURATION]`:
 * mints an app access token with the device secret. The identity comes from
 * --device/--secret, IVGW_DEVICE_ID/IVGW_DEVICE_SECRET, or the device identity file
 * (<data>/device.json; data from the --config file's device.data (only that section is
 * read), else --data, else ./ivgw-data). `--json` adds, when the identity comes from that
 * file, the device certificate's fingerprint, which apps pin (docs/PROTOCOL.md).
 * Must never: print the secret.
 */
import { mintToken } from '../../shared/protocol/access-token.js';
import { RIGHTS, isRight, type Right } from '../../shared/protocol/rights.js';
import { loadDeviceConfig } from '../../gateway/config/load.js';
import { loadIdentity } from '../../gateway/identity/device-identity.js';
import { durationFlag, parseCommand, usageError } from '../cli.js';

export function tokenCommand(argv: string[]): number {
  const parsed = parseCommand('token', argv, { peer: { type: 'string' }, rights: { type: 'string' }, ttl: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, data: { type: 'string' }, config: { type: 'string' }, json: { type: 'boolean' } });
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { values } = parsed;
  if (!values.peer) {
    return usageError('token', '--peer is required');
  }
  let device = values.device ?? (process.env.IVGW_DEVICE_ID || undefined);
  let secret = values.secret ?? (process.env.IVGW_DEVICE_SECRET || undefined);
  let fingerprint: string | undefined;
  if (!secret) {
    let dataDir = values.data ?? 'ivgw-data';
    try {
      if (values.config) {
        dataDir = loadDeviceConfig(values.config).data; // only device: (the cameras' ${VARS} are not needed here)
      }
      const identity = loadIdentity(dataDir);
      if (!identity) {
        return usageError('token', `no device identity in ${dataDir} (run \`ivgw init\` or \`ivgw run\` once, or give --device/--secret)`);
      }
      if (device !== undefined && device !== identity.id) {
        return usageError('token', `--device ${device} differs from the identity in ${dataDir} (${identity.id})`);
      }
      device = identity.id;
      secret = identity.secret;
      fingerprint = identity.fingerprint;
    } catch (err) {
      process.stderr.write(`ivgw token: ${(err as Error).message.split('\n')[0]}\n`);
      return 2;
    }
  }
  if (!device || !secret) {
    return usageError('token', 'the device id and secret are needed (--device/--secret, IVGW_DEVICE_ID/IVGW_DEVICE_SECRET, or a device identity)');
  }
  const rights = (values.rights ?? RIGHTS.join(',')).split(',').map((r) => r.trim()).filter(Boolean);
  const bad = rights.find((r) => !isRight(r));
  if (bad !== undefined) {
    process.stderr.write(`ivgw token: unknown right ${JSON.stringify(bad)}; rights are ${RIGHTS.join(', ')}\n`);
    return 2;
  }
  const ttlFlag = durationFlag('token', 'ttl', values.ttl);
  if (ttlFlag === null) {
    return 2;
  }
  const ttl = ttlFlag ?? 3600;
  const expires = Math.floor(Date.now() / 1000) + Math.max(1, Math.round(ttl));
  const token = mintToken(secret, { deviceId: device, peerId: values.peer, expires, rights: rights as Right[] });
  process.stdout.write(values.json ? `${JSON.stringify({ device, peer: values.peer, rights, expires, token, ...(fingerprint ? { fingerprint } : {}) })}\n` : `${token}\n`);
  return 0;
}
