/**
 * channel-send — one message onto a data channel that may be closing under the sender.
 * A channel can say it is open while its SCTP association is already gone (the other
 * end closed, the path broke): node-datachannel then throws ("libdatachannel error while
 * sending data channel message: Sending failed, errno=32"), a browser's RTCDataChannel
 * throws InvalidStateError. That is the channel closing, and its close event follows;
 * for the sender it is a message not sent, never a fault of its own (a throw on a 10 ms
 * tick used to crash the app's whole peer actor). Browser-safe.
 * Owns: telling a closing channel's refusal from a programming error. Must never:
 * swallow any other error (a wrong argument still throws).
 */

/** What a sender needs of a data channel (node-datachannel's DataChannel fits). */
export interface BinarySink {
  sendMessageBinary(data: Uint8Array): unknown;
}

/** The refusals of a channel that is closing or closed. */
const CLOSING = /libdatachannel error while sending|DataChannel is closed|closed|not open|InvalidStateError/i;

/**
 * Send one message; false when the channel is closing (its close event follows). True
 * means taken: sent, or queued behind what the channel buffers (node-datachannel's own
 * `false` return says only that, so it is not a refusal).
 */
export function sendBinary(dc: BinarySink, data: Uint8Array): boolean {
  try {
    dc.sendMessageBinary(data);
    return true;
  } catch (err) {
    if (err instanceof Error && (CLOSING.test(err.message) || err.name === 'InvalidStateError')) {
      return false;
    }
    throw err;
  }
}
