/**
 * device-identity — the device's persistent identity in `<data>/device.json` (mode 0600):
 * device id, the secret tokens are signed with, and one DTLS certificate + key (ECDSA
 * P-256, self-signed, made by certificate-worker.ts) that every
 * peer connection presents, so apps can pin its fingerprint. node-datachannel reads the
 * certificate from files: `dtlsFiles()` writes them next to device.json (also 0600).
 * Owns: that file and its format. Must never: print the secret, loosen the file's mode,
 * or replace an existing identity (tokens minted with it must keep working).
 */
import { randomBytes, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { IvError } from '../../runtime/errors.js';
import { certificateReply, type CertificateReply } from './certificate-message.js';

export interface DeviceIdentity {
  id: string;
  secret: string;
  /** PEM of the DTLS certificate and of its PKCS#8 key. */
  certificate: string;
  key: string;
  /** As SDP writes it: `sha-256 AB:CD:…` */
  fingerprint: string;
  created: string;
}

const FILE = 'device.json';

export function identityFile(dataDir: string): string {
  return join(dataDir, FILE);
}

/** `sha-256 XX:XX:…` of a PEM certificate. */
export function certificateFingerprint(pem: string): string {
  return `sha-256 ${new X509Certificate(pem).fingerprint256}`;
}

/**
 * A fresh self-signed DTLS certificate (10 years) and its key, made in a short-lived
 * worker thread (certificate-worker.ts) so its library never stays in this isolate.
 */
export function generateCertificate(commonName: string): Promise<{ certificate: string; key: string }> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./certificate-worker.js', import.meta.url), { workerData: { commonName } });
    let answered = false;
    worker.once('message', (m: unknown) => {
      answered = true;
      void worker.terminate();
      const problem = certificateReply(m, 'certificate worker reply');
      const r = m as CertificateReply;
      if (problem) {
        reject(problem);
      } else if (r.certificate !== undefined && r.key !== undefined) {
        resolve({ certificate: r.certificate, key: r.key });
      } else {
        reject(new IvError('IV_ERR_INTERNAL', `the DTLS certificate could not be made: ${r.error ?? 'no certificate in the answer'}`, { field: 'certificate' }));
      }
    });
    worker.once('error', (err) => {
      answered = true;
      reject(new IvError('IV_ERR_INTERNAL', `the DTLS certificate could not be made: ${err.message}`, { field: 'certificate' }));
    });
    worker.once('exit', (code) => {
      if (!answered) {
        reject(new IvError('IV_ERR_INTERNAL', `the certificate worker exited (${code}) without an answer`, { field: 'certificate' }));
      }
    });
  });
}

function bad(file: string, message: string): IvError {
  return new IvError('IV_ERR_INVALID_PARAM', `${file}: ${message}`, { field: file });
}

/** The identity in `dataDir`, or undefined when there is none yet. Throws naming the file when it is unreadable or malformed. */
export function loadIdentity(dataDir: string): DeviceIdentity | undefined {
  const file = identityFile(dataDir);
  if (!existsSync(file)) {
    return undefined;
  }
  let raw: Partial<DeviceIdentity>;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8')) as Partial<DeviceIdentity>;
  } catch (err) {
    throw bad(file, `cannot read the device identity: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  for (const k of ['id', 'secret', 'certificate', 'key'] as const) {
    if (typeof raw[k] !== 'string' || raw[k] === '') {
      throw bad(file, `the device identity lacks ${k}`);
    }
  }
  if ((statSync(file).mode & 0o077) !== 0) {
    chmodSync(file, 0o600); // a secret is never left readable by others
  }
  let fingerprint: string;
  try {
    fingerprint = certificateFingerprint(raw.certificate as string);
  } catch {
    throw bad(file, 'the device certificate is not a valid PEM certificate');
  }
  return { ...(raw as DeviceIdentity), fingerprint };
}

/** The identity in `dataDir`, created on first use (id from `id`, else `ivgw-<random>`). */
export async function ensureIdentity(dataDir: string, id?: string): Promise<{ identity: DeviceIdentity; created: boolean }> {
  const existing = loadIdentity(dataDir);
  if (existing) {
    if (id !== undefined && id !== existing.id) {
      throw new IvError('IV_ERR_INVALID_PARAM', `device.id: ${id} differs from the identity in ${identityFile(dataDir)} (${existing.id}); remove that file to start a new identity (tokens minted with the old one stop working)`, { field: 'device.id' });
    }
    return { identity: existing, created: false };
  }
  const deviceId = id ?? `ivgw-${randomBytes(4).toString('hex')}`;
  const { certificate, key } = await generateCertificate(deviceId);
  const identity: DeviceIdentity = { id: deviceId, secret: randomBytes(32).toString('base64url'), certificate, key, fingerprint: certificateFingerprint(certificate), created: new Date().toISOString() };
  mkdirSync(dataDir, { recursive: true });
  const file = identityFile(dataDir);
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, `${JSON.stringify(identity, null, 2)}\n`, { mode: 0o600 });
  renameSync(tmp, file);
  return { identity, created: true };
}

/** The certificate and key as files for node-datachannel (`certificatePemFile` / `keyPemFile`), mode 0600. */
export function dtlsFiles(identity: DeviceIdentity, dataDir: string): { certificatePemFile: string; keyPemFile: string } {
  const certificatePemFile = join(dataDir, 'dtls-cert.pem');
  const keyPemFile = join(dataDir, 'dtls-key.pem');
  for (const [f, text] of [[certificatePemFile, identity.certificate], [keyPemFile, identity.key]] as const) {
    writeFileSync(f, text, { mode: 0o600 });
    chmodSync(f, 0o600);
  }
  return { certificatePemFile, keyPemFile };
}
