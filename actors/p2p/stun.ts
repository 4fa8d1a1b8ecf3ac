/**
 * stun — the few STUN messages (RFC 5389) the gateway speaks itself: Binding requests
 * for keep-alive probes, Binding success responses for the built-in STUN responder,
 * and the mapped address they carry.
 *
 *   0                   1                   2                   3
 *   0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |0 0|     message type (0x0001 request, 0x0101 success)          |
 *  |   (14 bits)               |         message length (body)     |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |                  magic cookie 0x2112A442                       |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  |              transaction id (96 bits)                          |
 *  +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
 *  attributes: type (16) | length (16) | value, padded to 4 bytes
 *
 * Owns: encoding and decoding only. Must never: throw on bytes from the network (a
 * malformed message decodes to a reason, not an exception).
 */
import { randomBytes } from 'node:crypto';

export const STUN_MAGIC = 0x2112a442;
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
const ATTR_MAPPED_ADDRESS = 0x0001;
const ATTR_XOR_MAPPED_ADDRESS = 0x0020;
const HEADER = 20;

export interface MappedAddress {
  family: 'IPv4' | 'IPv6';
  address: string;
  port: number;
}

export type StunMessage =
  | { ok: true; type: number; transactionId: Buffer; mapped: MappedAddress | undefined }
  | { ok: false; reason: string };

export function newTransactionId(): Buffer {
  return randomBytes(12);
}

export function encodeBindingRequest(transactionId: Buffer): Buffer {
  const b = Buffer.alloc(HEADER);
  b.writeUInt16BE(BINDING_REQUEST, 0);
  b.writeUInt16BE(0, 2);
  b.writeUInt32BE(STUN_MAGIC, 4);
  transactionId.copy(b, 8, 0, 12);
  return b;
}

/** A Binding success response carrying XOR-MAPPED-ADDRESS (what the responder sends). */
export function encodeBindingSuccess(transactionId: Buffer, mapped: MappedAddress): Buffer {
  const v6 = mapped.family === 'IPv6';
  const valueLength = v6 ? 20 : 8;
  const b = Buffer.alloc(HEADER + 4 + valueLength);
  b.writeUInt16BE(BINDING_SUCCESS, 0);
  b.writeUInt16BE(4 + valueLength, 2);
  b.writeUInt32BE(STUN_MAGIC, 4);
  transactionId.copy(b, 8, 0, 12);
  b.writeUInt16BE(ATTR_XOR_MAPPED_ADDRESS, HEADER);
  b.writeUInt16BE(valueLength, HEADER + 2);
  b.writeUInt8(0, HEADER + 4);
  b.writeUInt8(v6 ? 0x02 : 0x01, HEADER + 5);
  b.writeUInt16BE(mapped.port ^ (STUN_MAGIC >>> 16), HEADER + 6);
  const addr = v6 ? ipv6Bytes(mapped.address) : Buffer.from(mapped.address.split('.').map(Number));
  const mask = Buffer.concat([b.subarray(4, 8), transactionId]);
  for (let i = 0; i < addr.length; i++) {
    b[HEADER + 8 + i] = (addr[i] as number) ^ (mask[i] as number);
  }
  return b;
}

/** Decode a STUN message; only the header and the mapped-address attributes are read. */
export function decodeStun(msg: Buffer): StunMessage {
  if (msg.length < HEADER) {
    return { ok: false, reason: `${msg.length} bytes is shorter than a STUN header` };
  }
  const type = msg.readUInt16BE(0);
  const length = msg.readUInt16BE(2);
  if ((type & 0xc000) !== 0 || msg.readUInt32BE(4) !== STUN_MAGIC) {
    return { ok: false, reason: 'not a STUN message (first bits or magic cookie)' };
  }
  if (length % 4 !== 0 || HEADER + length > msg.length) {
    return { ok: false, reason: `message length ${length} does not fit the ${msg.length} bytes received` };
  }
  const transactionId = Buffer.from(msg.subarray(8, 20));
  let mapped: MappedAddress | undefined;
  let xorMapped: MappedAddress | undefined;
  for (let pos = HEADER; pos + 4 <= HEADER + length;) {
    const attr = msg.readUInt16BE(pos);
    const len = msg.readUInt16BE(pos + 2);
    const value = msg.subarray(pos + 4, pos + 4 + len);
    if (value.length !== len) {
      return { ok: false, reason: `attribute 0x${attr.toString(16)} overruns the message` };
    }
    if (attr === ATTR_XOR_MAPPED_ADDRESS) {
      xorMapped = readAddress(value, Buffer.concat([msg.subarray(4, 8), transactionId]));
    } else if (attr === ATTR_MAPPED_ADDRESS) {
      mapped = readAddress(value, undefined);
    }
    pos += 4 + Math.ceil(len / 4) * 4;
  }
  return { ok: true, type, transactionId, mapped: xorMapped ?? mapped };
}

function readAddress(value: Buffer, xorMask: Buffer | undefined): MappedAddress | undefined {
  if (value.length < 8) {
    return undefined;
  }
  const family = value.readUInt8(1);
  const size = family === 0x01 ? 4 : family === 0x02 ? 16 : 0;
  if (size === 0 || value.length < 4 + size) {
    return undefined;
  }
  const port = value.readUInt16BE(2) ^ (xorMask ? xorMask.readUInt16BE(0) : 0);
  const addr = Buffer.from(value.subarray(4, 4 + size));
  if (xorMask) {
    for (let i = 0; i < size; i++) {
      addr[i] = (addr[i] as number) ^ (xorMask[i] as number);
    }
  }
  if (size === 4) {
    return { family: 'IPv4', address: [...addr].join('.'), port };
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    groups.push(addr.readUInt16BE(i).toString(16));
  }
  return { family: 'IPv6', address: groups.join(':'), port };
}

function ipv6Bytes(address: string): Buffer {
  const [head = '', tail = ''] = address.split('::');
  const h = head ? head.split(':') : [];
  const t = address.includes('::') ? (tail ? tail.split(':') : []) : [];
  const groups = [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  const b = Buffer.alloc(16);
  groups.forEach((g, i) => b.writeUInt16BE(parseInt(g, 16) & 0xffff, i * 2));
  return b;
}

/** `stun:host:port` (port default 3478) as used in ICE server lists. */
export function parseStunUrl(url: string): { host: string; port: number } | undefined {
  const m = /^stuns?:(\[[^\]]+\]|[^:?]+)(?::(\d{1,5}))?$/.exec(url.trim());
  if (!m) {
    return undefined;
  }
  const port = m[2] === undefined ? 3478 : Number(m[2]);
  if (port < 1 || port > 65535) {
    return undefined;
  }
  return { host: (m[1] as string).replace(/^\[|\]$/g, ''), port };
}

export function formatMapped(m: MappedAddress): string {
  return m.family === 'IPv6' ? `[${m.address}]:${m.port}` : `${m.address}:${m.port}`;
}
