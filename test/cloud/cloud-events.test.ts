/**
 * cloud-events — every snapshot gets exactly one result (spec: "每张抓图都会回调一次"), in the
 * orderings a real cloud actor can produce: the upload confirmed before the start's reply,
 * and a start that fails after the picture was taken. The actor is a stand-in here
 * (fault injection: the orderings are what is under test); the real actor's path is in
 * sdk-notes (note 7, note 11).
 */
import test from 'ava';
import type { ActorRef } from '../../runtime/actor-ref.js';
import { IvError, type IvErrorCode } from '../../runtime/errors.js';
import type { CloudMethods } from '../../actors/cloud/cloud-methods.js';
import { RunningEvents, type RunningEventsHost } from '../../actors/cloud/cloud-events.js';
import { fakeJpeg } from '../helpers/cloud.js';

function harness(call: (events: RunningEvents) => Promise<unknown>) {
  const results: { pic: Uint8Array; code: IvErrorCode }[] = [];
  const pic = fakeJpeg(1_000);
  const holder: { events?: RunningEvents } = {};
  const actor = { call: () => call(holder.events as RunningEvents) } as unknown as ActorRef<CloudMethods>;
  const host: RunningEventsHost = {
    actor: () => actor,
    anyService: () => true,
    replyMs: () => 1_000,
    capturePicture: () => () => pic,
    pictureResult: (p, code) => results.push({ pic: p, code }),
    problem: () => undefined,
    changed: () => undefined,
  };
  const events = new RunningEvents(host);
  holder.events = events;
  return { events, results, pic };
}

test('an upload confirmed before the start replies is reported once, with its code, and nothing waits for it', async (t) => {
  const { events, results, pic } = harness(async (ev) => {
    ev.pictureDone('dev1/events/pic-1.jpg', 'IV_ERR_NONE'); // the actor's notice overtakes its reply
    return { pictureKey: 'dev1/events/pic-1.jpg' };
  });
  await events.start(3, false, 0, 0);
  t.deepEqual(results, [{ pic, code: 'IV_ERR_NONE' }]);
  t.deepEqual(events.takePictures(), [], 'no picture left to be handed back at exit');
  events.pictureDone('dev1/events/pic-1.jpg', 'IV_ERR_NONE');
  t.is(results.length, 1, 'a repeated notice is not a second result');
});

test('a result after the reply is reported then; one for a key nobody waits for is ignored', async (t) => {
  const { events, results, pic } = harness(async () => ({ pictureKey: 'k2' }));
  events.pictureDone('unknown', 'IV_ERR_NONE');
  await events.start(4, false, 0, 0);
  t.deepEqual(results, []);
  events.pictureDone('unknown', 'IV_ERR_NONE');
  t.deepEqual(results, []);
  events.pictureDone('k2', 'IV_ERR_CS_UPLOAD_FAILED');
  t.deepEqual(results, [{ pic, code: 'IV_ERR_CS_UPLOAD_FAILED' }]);
});

test('a start that fails after the picture was taken hands the picture back with the failure, and the event is not running', async (t) => {
  const { events, results, pic } = harness(async () => {
    throw new IvError('IV_ERR_TIMEOUT', 'CLOUD_EVENT_START: no answer');
  });
  const err = await t.throwsAsync(events.start(5, false, 0, 0));
  t.is((err as IvError).code, 'IV_ERR_TIMEOUT');
  t.deepEqual(results, [{ pic, code: 'IV_ERR_TIMEOUT' }]);
  t.is(events.size, 0);
});
