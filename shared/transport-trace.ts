/**
 * transport-trace — `IVGW_RTC_LOG=Debug` (or Verbose, Info, Warning, Error) turns on
 * libdatachannel's own log, on stderr with a unix-ms timestamp and the process id, in
 * the gateway's p2p worker and in app clients alike: the tool for ICE/DTLS trouble.
 * Must never: log anything when the variable is unset.
 */
import type nodeDataChannel from 'node-datachannel';

const LEVELS = ['Verbose', 'Debug', 'Info', 'Warning', 'Error', 'Fatal'] as const;

export function traceTransport(ndc: typeof nodeDataChannel): void {
  const level = process.env.IVGW_RTC_LOG;
  if (level === undefined || level === '') {
    return;
  }
  if (!(LEVELS as readonly string[]).includes(level)) {
    process.stderr.write(`IVGW_RTC_LOG: expected one of ${LEVELS.join(', ')}, got ${JSON.stringify(level)}; not tracing\n`);
    return;
  }
  ndc.initLogger(level as (typeof LEVELS)[number], (l, message) => {
    process.stderr.write(`${Date.now()} rtc[${process.pid}] ${l} ${message}\n`);
  });
}
