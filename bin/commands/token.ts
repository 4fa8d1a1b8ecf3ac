/**
 * token — `ivgw token --peer ID [--rights live,playback,voice,command] [--ttl S]`: mints
 * an app access token with the device secret (--secret or IVGW_DEVICE_SECRET) for the
 * device (--device or IVGW_DEVICE_ID).
 */
import { parseArgs } from 'node:util';
import { mintToken } from '../../shared/protocol/access-token.js';
import { RIGHTS, isRight, type Right } from '../../shared/protocol/rights.js';

export function tokenCommand(argv: string[]): number {
  const { values } = parseArgs({
    args: argv,
    options: { peer: { type: 'string' }, rights: { type: 'string' }, ttl: { type: 'string' }, device: { type: 'string' }, secret: { type: 'string' }, json: { type: 'boolean' } },
  });
  const usage = `usage: ivgw token --peer ID [--rights ${RIGHTS.join(',')}] [--ttl SECONDS] [--device ID] [--secret S]\n`;
  const device = values.device ?? process.env.IVGW_DEVICE_ID;
  const secret = values.secret ?? process.env.IVGW_DEVICE_SECRET;
  if (!values.peer) {
    process.stderr.write(`ivgw token: --peer is required\n${usage}`);
    return 2;
  }
  if (!device || !secret) {
    process.stderr.write(`ivgw token: the device id and secret are needed (--device/--secret or IVGW_DEVICE_ID/IVGW_DEVICE_SECRET)\n${usage}`);
    return 2;
  }
  const rights = (values.rights ?? RIGHTS.join(',')).split(',').map((r) => r.trim()).filter(Boolean);
  const bad = rights.find((r) => !isRight(r));
  if (bad !== undefined) {
    process.stderr.write(`ivgw token: unknown right ${JSON.stringify(bad)}; rights are ${RIGHTS.join(', ')}\n`);
    return 2;
  }
  const ttl = Number(values.ttl ?? 3600);
  if (!Number.isInteger(ttl) || ttl <= 0) {
    process.stderr.write('ivgw token: --ttl must be a positive number of seconds\n');
    return 2;
  }
  const expires = Math.floor(Date.now() / 1000) + ttl;
  const token = mintToken(secret, { deviceId: device, peerId: values.peer, expires, rights: rights as Right[] });
  process.stdout.write(values.json ? `${JSON.stringify({ device, peer: values.peer, rights, expires, token })}\n` : `${token}\n`);
  return 0;
}
