/**
 * browser — what the Chromium tests share: `ivgw run` (startGateway) with its MQTT over
 * WebSocket URL, the page dist/www served by a GatewayHttpServer, and Debian's Chromium
 * through playwright-core (`CHROMIUM` overrides the path).
 */
import { fileURLToPath } from 'node:url';
import { chromium, type Browser } from 'playwright-core';
import { GatewayHttpServer } from '../../gateway/http-server.js';
import { startGateway, type Gateway } from './gateway.js';

export const WWW = fileURLToPath(new URL('../../www/', import.meta.url));
export const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** The `ws://` URL `ivgw run` printed for browsers. */
export async function wsUrlOf(g: Gateway): Promise<string> {
  const until = Date.now() + 20_000;
  for (;;) {
    const m = g.log.map((l) => /MQTT over WebSocket \(browsers\) on (ws:\/\/\S+)/.exec(l)).find((x) => x);
    if (m?.[1]) {
      return m[1].replace(/,$/, '');
    }
    if (Date.now() > until) {
      throw new Error(`no WebSocket listener line:\n${g.log.join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface BrowserRig {
  gw: Gateway;
  wsUrl: string;
  http: GatewayHttpServer;
  browser: Browser;
  close(): Promise<void>;
}

export async function startBrowserRig(gatewayArgs: string[] = [], chromiumArgs: string[] = []): Promise<BrowserRig> {
  const gw = await startGateway(gatewayArgs);
  const wsUrl = await wsUrlOf(gw);
  const http = await GatewayHttpServer.start({ listen: '127.0.0.1:0', staticDir: WWW, metrics: async () => ({ contentType: 'text/plain', text: '' }), health: () => ({ ok: true, reasons: [] }), status: async () => ({}) });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', ...chromiumArgs] });
  return {
    gw, wsUrl, http, browser,
    close: async () => {
      await browser.close().catch(() => undefined);
      await http.close();
      await gw.stop();
    },
  };
}
