/**
 * load-html — `ivgw load --html report.html`: one self-contained page (inline SVG and
 * CSS, no script, no network) with the verdict, the summary tables and four plots:
 * capture-to-receive latency histogram, delivered rate and connected apps over time,
 * latency p50/p99 over time, and the connect-time CDF.
 * Owns: the page layout and the SVG plots. Must never: print a number the report does
 * not hold, or embed unescaped text.
 */
import { bucketLowerMs, bucketUpperMs } from './histogram.js';
import type { LoadReport, Spread } from './load-report.js';

const W = 640;
const H = 300;
const M = { l: 56, r: 56, t: 30, b: 44 };

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function niceMax(v: number): number {
  if (!(v > 0)) {
    return 1;
  }
  const p = 10 ** Math.floor(Math.log10(v));
  const m = v / p;
  return (m <= 1 ? 1 : m <= 2 ? 2 : m <= 5 ? 5 : 10) * p;
}

const fmt = (n: number): string => (Math.abs(n) >= 100 || Number.isInteger(n) ? String(Math.round(n)) : n.toFixed(1));

interface Series {
  name: string;
  color: string;
  points: [number, number][];
  /** Drawn against the right axis. */
  right?: boolean;
  step?: boolean;
}

function frame(title: string, xLabel: string, yLabel: string, xMax: number, yMax: number, body: string, yRight?: { label: string; max: number }): string {
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const grid = ticks.map((f) => {
    const y = M.t + ph - f * ph;
    const x = M.l + f * pw;
    return `<line x1="${M.l}" x2="${M.l + pw}" y1="${y}" y2="${y}" class="grid"/>` +
      `<text x="${M.l - 6}" y="${y + 4}" text-anchor="end">${fmt(f * yMax)}</text>` +
      (yRight ? `<text x="${M.l + pw + 6}" y="${y + 4}">${fmt(f * yRight.max)}</text>` : '') +
      `<text x="${x}" y="${M.t + ph + 16}" text-anchor="middle">${fmt(f * xMax)}</text>`;
  }).join('');
  return `<figure><svg viewBox="0 0 ${W} ${H}" width="${W}" height="${H}" role="img" aria-label="${esc(title)}">` +
    `<title>${esc(title)}</title><text x="${W / 2}" y="18" text-anchor="middle" class="title">${esc(title)}</text>${grid}` +
    `<line x1="${M.l}" x2="${M.l}" y1="${M.t}" y2="${M.t + ph}" class="axis"/><line x1="${M.l}" x2="${M.l + pw}" y1="${M.t + ph}" y2="${M.t + ph}" class="axis"/>` +
    `<text x="${M.l + pw / 2}" y="${H - 8}" text-anchor="middle">${esc(xLabel)}</text>` +
    `<text transform="translate(14 ${M.t + ph / 2}) rotate(-90)" text-anchor="middle">${esc(yLabel)}</text>` +
    (yRight ? `<text transform="translate(${W - 10} ${M.t + ph / 2}) rotate(90)" text-anchor="middle">${esc(yRight.label)}</text>` : '') +
    `${body}</svg></figure>`;
}

function linePlot(title: string, xLabel: string, yLabel: string, series: Series[], rightLabel?: string): string {
  const all = series.flatMap((s) => s.points);
  if (all.length === 0) {
    return `<figure><p class="empty">${esc(title)}: no data</p></figure>`;
  }
  const xMax = niceMax(Math.max(...all.map((p) => p[0])));
  const yMax = niceMax(Math.max(...series.filter((s) => !s.right).flatMap((s) => s.points.map((p) => p[1]))));
  const rMax = niceMax(Math.max(0, ...series.filter((s) => s.right).flatMap((s) => s.points.map((p) => p[1]))));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const body = series.map((s, i) => {
    const max = s.right ? rMax : yMax;
    const xy = (p: [number, number]): string => `${(M.l + (p[0] / xMax) * pw).toFixed(1)},${(M.t + ph - (p[1] / max) * ph).toFixed(1)}`;
    const pts: string[] = [];
    s.points.forEach((p, k) => {
      const prev = s.points[k - 1];
      if (s.step && prev) {
        pts.push(xy([p[0], prev[1]]));
      }
      pts.push(xy(p));
    });
    return `<polyline fill="none" stroke="${s.color}" stroke-width="2" points="${pts.join(' ')}"><title>${esc(s.name)}</title></polyline>` +
      `<rect x="${M.l + 10}" y="${M.t + 6 + i * 16}" width="10" height="10" fill="${s.color}"/><text x="${M.l + 26}" y="${M.t + 15 + i * 16}">${esc(s.name)}</text>`;
  }).join('');
  return frame(title, xLabel, yLabel, xMax, yMax, body, rightLabel ? { label: rightLabel, max: rMax } : undefined);
}

function histogramPlot(report: LoadReport): string {
  const title = 'Capture-to-receive latency (steady-state video frames)';
  const pairs = report.latencyHistogram;
  if (pairs.length === 0) {
    return `<figure><p class="empty">${esc(title)}: no samples</p></figure>`;
  }
  const total = pairs.reduce((n, [, c]) => n + c, 0);
  // show up to the bucket holding the 99.9th percentile (the rest is in the table)
  let seen = 0;
  let lastBucket = (pairs[pairs.length - 1] as [number, number])[0];
  for (const [b, c] of pairs) {
    seen += c;
    if (seen >= total * 0.999) {
      lastBucket = b;
      break;
    }
  }
  const xMax = niceMax(Math.min(bucketUpperMs(lastBucket), 10_000));
  const shown = pairs.filter(([b]) => bucketLowerMs(b) < xMax);
  const yMax = niceMax(Math.max(...shown.map(([, c]) => (c / total) * 100)));
  const pw = W - M.l - M.r;
  const ph = H - M.t - M.b;
  const bars = shown.map(([b, c]) => {
    const x0 = M.l + (bucketLowerMs(b) / xMax) * pw;
    const x1 = M.l + (Math.min(bucketUpperMs(b), xMax) / xMax) * pw;
    const h = ((c / total) * 100 / yMax) * ph;
    return `<rect x="${x0.toFixed(1)}" y="${(M.t + ph - h).toFixed(1)}" width="${Math.max(1, x1 - x0 - 0.5).toFixed(1)}" height="${h.toFixed(1)}" fill="#3b6fb6"><title>${fmt(bucketLowerMs(b))}–${fmt(bucketUpperMs(b))} ms: ${c} frames</title></rect>`;
  }).join('');
  return frame(title, 'latency, ms', '% of frames', xMax, yMax, bars);
}

function spreadRow(name: string, s: Spread, unit: string): string {
  const v = (n: number | null): string => (n === null ? '–' : `${fmt(n)} ${unit}`);
  return `<tr><th>${esc(name)}</th><td>${s.n}</td><td>${v(s.p50)}</td><td>${v(s.p90)}</td><td>${v(s.p99)}</td><td>${v(s.max)}</td></tr>`;
}

export function renderLoadHtml(report: LoadReport): string {
  const o = report.options;
  const t = report.totals;
  const connect = report.apps.flatMap((a) => a.connectMs).sort((a, b) => a - b);
  const cdf: [number, number][] = connect.map((ms, i) => [ms, ((i + 1) / connect.length) * 100]);
  const plots = [
    histogramPlot(report),
    linePlot('Delivered rate and connected apps over time', 'seconds since start', 'Mbit/s', [
      { name: 'delivered Mbit/s (all apps)', color: '#3b6fb6', points: report.timeline.map((p) => [p.t, p.mbps]) },
      { name: 'connected apps (right axis)', color: '#d9822b', points: report.timeline.map((p) => [p.t, p.connected]), right: true },
    ], 'apps'),
    linePlot('Latency over time', 'seconds since start', 'ms', [
      { name: 'p50', color: '#3b6fb6', points: report.timeline.filter((p) => p.latencyP50 !== null).map((p) => [p.t, p.latencyP50 as number]) },
      { name: 'p99', color: '#c23030', points: report.timeline.filter((p) => p.latencyP99 !== null).map((p) => [p.t, p.latencyP99 as number]) },
    ]),
    linePlot('Connect time CDF (signaling + ICE + DTLS + control channel)', 'connect time, ms', '% of connects', [
      { name: `${connect.length} connects`, color: '#2b8a3e', points: cdf, step: true },
    ]),
  ].join('\n');
  const verdict = report.verdict.ok
    ? '<p class="ok">PASS: no errors, no integrity violations, no gaps</p>'
    : `<p class="fail">FAIL</p><ul>${report.verdict.problems.map((p) => `<li>${esc(p)}</li>`).join('')}</ul>`;
  const scenarios = Object.entries(report.perScenario).map(([s, v]) =>
    `<tr><th>${esc(s)}</th><td>${v.apps}</td><td>${v.kbpsP50 ?? '–'}</td><td>${v.errors}</td><td>${v.violations}</td><td>${v.gaps}</td><td>${v.resumes} (${v.pauseGaps} with a jump)</td></tr>`).join('');
  const problems = report.problems.map((p) => `<tr><td>${p.app}</td><td>${esc(p.peer)}</td><td>${esc(p.scenario)}</td><td>${esc(p.kind)}</td><td>${esc(p.code)}</td><td>${esc(p.message)}</td></tr>`).join('');
  const m = report.machine;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>ivgw load report — ${esc(o.device)}, ${o.peers} apps</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:24px;max-width:1340px;color:#222}
h1{font-size:20px}h2{font-size:16px;margin-top:28px}
table{border-collapse:collapse;margin:8px 0}th,td{border:1px solid #ccc;padding:3px 8px;text-align:right}th{text-align:left;background:#f4f4f4}
.ok{color:#2b8a3e;font-weight:bold}.fail{color:#c23030;font-weight:bold}
.plots{display:flex;flex-wrap:wrap;gap:12px}figure{margin:0;border:1px solid #ddd}
svg text{font-size:11px;fill:#333}svg .title{font-size:13px;font-weight:bold}svg .grid{stroke:#eee}svg .axis{stroke:#888}.empty{padding:20px;width:600px}
</style></head><body>
<h1>ivgw load — ${o.peers} apps against ${esc(o.device)}</h1>
<p>${esc(report.startedAt)} · broker ${esc(o.broker)} · ${o.workers} worker processes · ${o.seconds} s per app · ramp ${o.rampPerS} apps/s · channels ${o.channels.join(', ')} · mix ${esc(Object.entries(o.mix).filter(([, w]) => w > 0).map(([s, w]) => `${s}=${w}`).join(', '))}<br>
machine: ${esc(m.cpu)}, ${m.cores} cores, ${m.memGiB} GiB, Node ${esc(m.node)}</p>
${verdict}
<div class="plots">
${plots}
</div>
<h2>Summary</h2>
<table><tr><th></th><th>n</th><th>p50</th><th>p90</th><th>p99</th><th>max</th></tr>
${spreadRow('connect', report.connectMs, 'ms')}${spreadRow('first frame after open', report.firstFrameMs, 'ms')}${spreadRow('capture-to-receive latency', report.latencyMs, 'ms')}${spreadRow('command round trip', report.commandRttMs, 'ms')}${spreadRow('delivered rate per app', report.appKbps, 'kbit/s')}
</table>
<table><tr><th>apps</th><td>${t.apps}</td><th>connected</th><td>${t.appsConnected}</td><th>sessions</th><td>${t.sessions} (connect retries ${t.connectRetries})</td><th>errors</th><td>${t.errors}</td></tr>
<tr><th>integrity violations</th><td>${t.integrityViolations}</td><th>gaps</th><td>${t.gaps}</td><th>watermark resumes</th><td>${t.resumes} (${t.pauseGaps} with a jump)</td><th>worker faults</th><td>${t.workerFaults}</td></tr>
<tr><th>video frames</th><td>${t.videoFrames}</td><th>audio frames</th><td>${t.audioFrames}</td><th>voice frames sent</th><td>${t.voiceFrames}</td><th>commands</th><td>${t.commands}</td></tr>
<tr><th>bytes</th><td>${t.bytes}</td><th>watermark events</th><td>${t.watermarkEvents}</td><th>playback rounds</th><td>${t.playbackRounds}</td><th></th><td></td></tr></table>
<h2>Per scenario</h2>
<table><tr><th>scenario</th><th>apps</th><th>kbit/s p50</th><th>errors</th><th>violations</th><th>gaps</th><th>watermark resumes</th></tr>${scenarios}</table>
<h2>Problems</h2>
${problems ? `<table><tr><th>app</th><th>peer</th><th>scenario</th><th>kind</th><th>code</th><th>message</th></tr>${problems}</table>` : '<p>none</p>'}
${report.faults.length ? `<h2>Worker faults</h2><ul>${report.faults.map((f) => `<li>${esc(f)}</li>`).join('')}</ul>` : ''}
</body></html>
`;
}
