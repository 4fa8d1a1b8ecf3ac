/**
 * log-lines — `ivgw run` writes JSON lines when its stdout is not a terminal (pino); tests
 * read them as the short text a person would: `ivgw: msg` for the gateway's own records,
 * `[component] msg` for the others. A line that is not a JSON record stays as it is
 * (stderr's one-line failures, a firmware's `fw:` lines).
 */
export interface LogRecordLine {
  level: number;
  component?: string;
  msg?: string;
  [field: string]: unknown;
}

export function parseRecord(line: string): LogRecordLine | undefined {
  if (!line.startsWith('{')) {
    return undefined;
  }
  try {
    const r = JSON.parse(line) as LogRecordLine;
    return typeof r.level === 'number' && typeof r.msg === 'string' ? r : undefined;
  } catch {
    return undefined;
  }
}

export function renderLine(line: string): string {
  const r = parseRecord(line);
  if (!r) {
    return line;
  }
  return r.component === 'ivgw' ? `ivgw: ${r.msg ?? ''}` : `${r.component ? `[${r.component}] ` : ''}${r.msg ?? ''}`;
}

/** `ivgw run` args with an HTTP server on a free loopback port unless the test chose one. */
export function withHttp(args: string[]): string[] {
  return args.includes('--http') || args.includes('--firmware') ? args : [...args, '--http', '127.0.0.1:0'];
}
