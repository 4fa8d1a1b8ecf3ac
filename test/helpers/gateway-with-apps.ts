/**
 * gateway-with-apps — the `ivgw run` (startGateway with the file's arguments) and the app
 * host (RemoteApps) a whole test file shares: started before its first test, stopped after
 * its last, apps first so that none outlives the gateway it talks to.
 * Must never: be called inside a test (it registers the file's before/after hooks).
 */
import test from 'ava';
import { startGateway, type Gateway } from './gateway.js';
import { RemoteApps } from './remote-apps.js';

/** Register the hooks; `ready` gets both once they are up (and may wait for more, e.g. recorded segments). */
export function gatewayWithApps(args: string[], ready: (gw: Gateway, apps: RemoteApps) => void | Promise<void>, cleanup?: () => void): void {
  let gw: Gateway | undefined;
  let apps: RemoteApps | undefined;
  test.before(async () => {
    gw = await startGateway(args);
    apps = new RemoteApps();
    await ready(gw, apps);
  });
  test.after.always(async () => {
    await apps?.exit();
    await gw?.stop();
    cleanup?.();
  });
}
