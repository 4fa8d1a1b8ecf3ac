/**
 * token — `ivgw token --peer ID [--rights live,playback,voice,command] [--ttl S]`: mints
 * an app access token with the device secret (--secret or IVGW_DEVICE_SECRET) for the
 * device (--device or IVGW_DEVICE_ID).
 */
import { durationFlag, parseCommand, usageError } from '../cli.js';
import { RIGHTS, isRight, mintToken, type Right } from '../../actors/p2p/access-token.js';

export function tokenCommand(argv: string[]): number {
  const parsed = parseCommand('token', argv, { peer: { type: 'string' }, rights: { type: 'string' }, ttl: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, json: { type: 'boolean' } });
  if (typeof parsed === 'number') {
    return parsed;
  }
  const { values } = parsed;
  const device = values.device ?? process.env.IVGW_DEVICE_ID;
  const secret = values.secret ?? process.env.IVGW_DEVICE_SECRET;
  if (!values.peer) {
    return usageError('token', '--peer is required');
  }
  if (!device || !secret) {
    return usageError('token', 'the device id and secret are needed (--device/--secret or IVGW_DEVICE_ID/IVGW_DEVICE_SECRET)');
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
  process.stdout.write(values.json ? `${JSON.stringify({ device, peer: values.peer, rights, expires, token })}\n` : `${token}\n`);
  return 0;
}
