/**
 * init — `ivgw init [--dir DIR]`: writes a commented ivgw.yaml and the device identity.
 */
import { parseCommand } from '../cli.js';

export function initCommand(argv: string[]): number {
  const parsed = parseCommand('init', argv, { dir: { type: 'string' }, device: { type: 'string' }, force: { type: 'boolean' } });
  if (typeof parsed === 'number') {
    return parsed;
  }
  process.stderr.write('ivgw init: not yet\n');
  return 1;
}
