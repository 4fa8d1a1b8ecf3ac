/**
 * certificate-worker — makes one self-signed DTLS certificate (ECDSA P-256, 10 years,
 * WebCrypto through @peculiar/x509) in a thread of its own, answers once and exits.
 * Loaded in the main isolate, @peculiar/x509 stayed there for the life of the process:
 * `ivgw run`'s first start held ~9 MB more RSS than its later starts (bench footprint).
 * Owns: the generation. Must never: answer more than once, or anything but a
 * CertificateReply (certificate-message.ts).
 */
import { randomBytes, webcrypto } from 'node:crypto';
import { parentPort, workerData } from 'node:worker_threads';
import { CERTIFICATE_MESSAGE_VERSION, type CertificateReply } from './certificate-message.js';

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

async function make(commonName: string): Promise<{ certificate: string; key: string }> {
  const x509 = await import('@peculiar/x509');
  x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);
  const keys = await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify']);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: randomBytes(8).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${commonName.replace(/[,=+<>#;"\\]/g, '_')}`,
    notBefore: new Date(Date.now() - 86_400_000),
    notAfter: new Date(Date.now() + 3_650 * 86_400_000),
    signingAlgorithm: ALG,
    keys,
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)).toString('base64');
  return { certificate: cert.toString('pem'), key: `-----BEGIN PRIVATE KEY-----\n${pkcs8.replace(/(.{64})/g, '$1\n').trim()}\n-----END PRIVATE KEY-----\n` };
}

const name = (workerData as { commonName?: unknown } | null)?.commonName;
const reply = (r: Omit<CertificateReply, 'v'>): void => parentPort?.postMessage({ v: CERTIFICATE_MESSAGE_VERSION, ...r });
if (typeof name !== 'string') {
  reply({ error: 'commonName: expected a string' });
} else {
  make(name).then(reply, (err: unknown) => reply({ error: (err as Error).message }));
}
