/**
 * run-identity — the identity a running gateway uses: the persistent one in
 * `<data>/device.json` (created on first start), or — when a secret is given explicitly
 * (--secret / IVGW_DEVICE_SECRET) — that secret with a certificate made for this run
 * only. Either way every peer connection presents one certificate whose fingerprint apps
 * can pin.
 * Owns: that choice and the temporary certificate files. Must never: print the secret.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { certificateFingerprint, dtlsFiles, ensureIdentity, generateCertificate, identityFile } from './device-identity.js';

export interface RunIdentity {
  id: string;
  secret: string;
  fingerprint: string;
  dtls: { certificatePemFile: string; keyPemFile: string };
  /** The device.json this identity lives in; undefined for an explicit secret. */
  file: string | undefined;
  created: boolean;
  /** Removes the temporary certificate files of an explicit-secret run. */
  dispose(): void;
}

export const DEMO_DEVICE_ID = 'ivgw-demo';

export async function runIdentity(o: { dataDir: string; deviceId?: string | undefined; secret?: string | undefined }): Promise<RunIdentity> {
  if (o.secret) {
    const id = o.deviceId ?? DEMO_DEVICE_ID;
    const { certificate, key } = await generateCertificate(id);
    const dir = mkdtempSync(join(tmpdir(), 'ivgw-dtls-'));
    const certificatePemFile = join(dir, 'cert.pem');
    const keyPemFile = join(dir, 'key.pem');
    writeFileSync(certificatePemFile, certificate, { mode: 0o600 });
    writeFileSync(keyPemFile, key, { mode: 0o600 });
    return { id, secret: o.secret, fingerprint: certificateFingerprint(certificate), dtls: { certificatePemFile, keyPemFile }, file: undefined, created: false, dispose: () => rmSync(dir, { recursive: true, force: true }) };
  }
  const fresh = !existsSync(identityFile(o.dataDir));
  const { identity, created } = await ensureIdentity(o.dataDir, o.deviceId ?? (fresh ? DEMO_DEVICE_ID : undefined));
  return { id: identity.id, secret: identity.secret, fingerprint: identity.fingerprint, dtls: dtlsFiles(identity, o.dataDir), file: identityFile(o.dataDir), created, dispose: () => undefined };
}
