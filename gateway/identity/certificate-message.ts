/**
 * certificate-message — the one message certificate-worker.ts sends back: the
 * certificate and key it made, or why it could not. Versioned; anything else is a fault.
 * Owns: that shape and its check. Must never: carry anything but PEM text or an error line.
 */
import { int, obj, opt, str, type Checked } from '../../runtime/checks.js';

export const CERTIFICATE_MESSAGE_VERSION = 1;

export const certificateReply = obj({
  v: int(CERTIFICATE_MESSAGE_VERSION, CERTIFICATE_MESSAGE_VERSION),
  certificate: opt(str),
  key: opt(str),
  error: opt(str),
});

export type CertificateReply = Checked<typeof certificateReply>;
