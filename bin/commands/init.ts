/**
 * init — `ivgw init [--dir DIR] [--device ID] [--force]`: writes a commented ivgw.yaml and
 * the device identity (DIR/ivgw-data/device.json, mode 0600) so that
 * `ivgw run --config DIR/ivgw.yaml` runs a gateway with a persistent identity.
 * Must never: overwrite an existing identity, or an ivgw.yaml without --force.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { configTemplate } from '../../gateway/config/template.js';
import { ensureIdentity } from '../../gateway/identity/device-identity.js';
import { parseCommand, usageError } from '../cli.js';

export async function initCommand(argv: string[]): Promise<number> {
  const parsed = parseCommand('init', argv, { dir: { type: 'string' }, device: { type: 'string' }, force: { type: 'boolean' } });
  if (typeof parsed === 'number') {
    return parsed;
  }
  const dir = resolve(parsed.values.dir ?? '.');
  const device = parsed.values.device;
  if (device !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(device)) {
    return usageError('init', `--device: expected 1..64 of [A-Za-z0-9_.-], got ${JSON.stringify(device)}`);
  }
  const file = join(dir, 'ivgw.yaml');
  if (existsSync(file) && !parsed.values.force) {
    process.stderr.write(`ivgw init: ${file} exists; --force overwrites it (the device identity is kept either way)\n`);
    return 1;
  }
  mkdirSync(dir, { recursive: true });
  const dataDir = join(dir, 'ivgw-data');
  const { identity, created } = await ensureIdentity(dataDir, device);
  writeFileSync(file, configTemplate({ deviceId: identity.id }));
  process.stdout.write(`ivgw init: wrote ${file}\n`);
  process.stdout.write(`ivgw init: ${created ? 'created' : 'kept'} the device identity ${join(dataDir, 'device.json')} (id ${identity.id}, mode 0600)\n`);
  process.stdout.write(`ivgw init: DTLS certificate fingerprint ${identity.fingerprint}\n`);
  process.stdout.write(`next: edit the cameras in ivgw.yaml, then: npx ivgw run --config ${file}\n`);
  return 0;
}
