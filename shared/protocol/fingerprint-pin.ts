/**
 * fingerprint-pin — certificate pinning on the app side (docs/PROTOCOL.md §2.3): an app
 * given the device's DTLS certificate fingerprint (with its token, from `ivgw token --json`)
 * accepts a device description (answer, or restart offer) only when its `a=fingerprint`
 * lines name that certificate. A forged answer published on the app's `down` topic by
 * someone without the device's key is ignored, so it gets nowhere: DTLS would fail
 * against the real certificate anyway, and the impostor never gets the session.
 * Owns: the comparison rule (browser-safe: any app, Node or browser, uses it). Must never:
 * accept a description without a fingerprint when a pin is set.
 */

/** `sha-256 AB:CD:…` normalised: algorithm lower case, hex upper case. */
export function normaliseFingerprint(f: string): string | undefined {
  const m = /^\s*([A-Za-z0-9-]+)\s+([0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})+)\s*$/.exec(f);
  return m?.[1] && m[2] ? `${m[1].toLowerCase()} ${m[2].toUpperCase()}` : undefined;
}

/** Every `a=fingerprint:` of an SDP (session and media level), normalised. */
export function sdpFingerprints(sdp: string): string[] {
  const out: string[] = [];
  for (const m of sdp.matchAll(/^a=fingerprint:(.+?)\s*$/gm)) {
    const f = normaliseFingerprint(m[1] ?? '');
    if (f) {
      out.push(f);
    }
  }
  return out;
}

/** Why `sdp` does not match the pinned fingerprint, or undefined when it does (or nothing is pinned). */
export function pinProblem(sdp: string, pinned: string | undefined): string | undefined {
  if (pinned === undefined) {
    return undefined;
  }
  const want = normaliseFingerprint(pinned);
  if (!want) {
    return `the pinned fingerprint is not "sha-256 XX:XX:…": ${JSON.stringify(pinned)}`;
  }
  const got = sdpFingerprints(sdp);
  if (got.length === 0) {
    return 'the device description carries no a=fingerprint';
  }
  const other = got.find((f) => f !== want);
  return other ? `the device certificate ${other} is not the pinned ${want}` : undefined;
}
