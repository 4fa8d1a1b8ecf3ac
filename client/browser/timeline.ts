/**
 * timeline — a channel's recorded ranges (`channels`' `recorded`, unix ms) drawn as a bar
 * from the oldest recording to the newest: a click on the bar plays back from that moment
 * to the end of its range; every range is also listed (newest first, 20 of them) with a
 * button that plays it whole. What a user picks goes to `onPlay(startMs, endMs)`.
 * Owns: the timeline's elements. Must never: offer a window outside a recorded range.
 */

const LISTED = 20;

/** The playback `params` (unix seconds) of a window (docs/PROTOCOL.md §4 playback). */
export function playbackParams(channel: number, startMs: number, endMs: number): string {
  const start = Math.floor(startMs / 1000);
  return `action=playback&channel=${channel}&start=${start}&end=${Math.max(start + 1, Math.ceil(endMs / 1000))}`;
}

export function renderTimeline(el: HTMLElement, channel: number, ranges: readonly [number, number][], onPlay: (startMs: number, endMs: number) => void): void {
  if (ranges.length === 0) {
    el.replaceChildren(Object.assign(document.createElement('p'), { textContent: `channel ${channel}: nothing recorded (or no playback right)` }));
    return;
  }
  const first = (ranges[0] as [number, number])[0];
  const last = (ranges[ranges.length - 1] as [number, number])[1];
  const span = Math.max(1, last - first);
  const bar = document.createElement('div');
  bar.className = 'timeline';
  bar.title = 'click to play back from there';
  for (const [s, e] of ranges) {
    const seg = document.createElement('span');
    seg.style.left = `${((s - first) / span) * 100}%`;
    seg.style.width = `${Math.max(0.3, ((e - s) / span) * 100)}%`;
    bar.append(seg);
  }
  bar.addEventListener('click', (ev) => {
    const box = bar.getBoundingClientRect();
    const t = first + ((ev.clientX - box.left) / Math.max(1, box.width)) * span;
    const hit = ranges.find(([s, e]) => t >= s && t < e) ?? ranges.find(([s]) => s >= t);
    if (hit) {
      onPlay(Math.max(t, hit[0]), hit[1]);
    }
  });
  const axis = document.createElement('p');
  axis.className = 'axis';
  axis.textContent = `${new Date(first).toLocaleString()} … ${new Date(last).toLocaleTimeString()}`;
  const list = document.createElement('ul');
  for (const [s, e] of ranges.slice(-LISTED).reverse()) {
    const li = document.createElement('li');
    const b = document.createElement('button');
    b.type = 'button';
    b.className = 'play-range';
    b.dataset.start = String(s);
    b.dataset.end = String(e);
    b.textContent = '▶';
    b.addEventListener('click', () => onPlay(s, e));
    li.append(b, ` ${new Date(s).toLocaleTimeString()} – ${new Date(e).toLocaleTimeString()} (${Math.round((e - s) / 1000)} s)`);
    list.append(li);
  }
  el.replaceChildren(bar, axis, list);
}
