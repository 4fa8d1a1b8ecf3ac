import test from 'ava';
import { MessageChannel, Worker } from 'node:worker_threads';
import { exposeFacade } from '../../runtime/comlink-bridge.js';

test('the runtime facade is callable from another thread through comlink', async (t) => {
  const { port1, port2 } = new MessageChannel();
  const calls: string[] = [];
  exposeFacade({
    getSendBuf: (handle: number) => {
      calls.push(`getSendBuf ${handle}`);
      return handle * 1000;
    },
  }, port1);
  const worker = new Worker(new URL('../fixtures/facade-client.js', import.meta.url), { workerData: { port: port2 }, transferList: [port2] });
  const answer = await new Promise((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
  });
  await worker.terminate();
  port1.close();
  t.is(answer, 7000);
  t.deepEqual(calls, ['getSendBuf 7']);
});
