import test from 'ava';
import { TypedEmitter } from '../../runtime/typed-emitter.js';

class Door extends TypedEmitter<{ opened: [who: string]; closed: [] }> {
  open(who: string): void {
    this.emit('opened', who);
  }
}

test('a throwing listener is reported on listenererror and the other listeners still run', (t) => {
  const door = new Door();
  const seen: string[] = [];
  const errors: [string, unknown][] = [];
  door.on('listenererror', (event, err) => errors.push([event, err]));
  door.on('opened', () => {
    throw new Error('bad listener');
  });
  door.on('opened', (who) => seen.push(who));
  t.notThrows(() => door.open('ann'));
  t.deepEqual(seen, ['ann']);
  t.is(errors.length, 1);
  t.is(errors[0]?.[0], 'opened');
  t.is((errors[0]?.[1] as Error).message, 'bad listener');
});

test('without a listenererror listener a throwing listener becomes a process warning, never an exception', async (t) => {
  const door = new Door();
  door.on('opened', () => {
    throw new Error('nobody listens');
  });
  const warning = new Promise<Error>((resolve) => process.once('warning', resolve));
  t.notThrows(() => door.open('bob'));
  const w = await warning;
  t.is(w.name, 'IvListenerError');
  t.regex(w.message, /opened.*nobody listens/s);
});

test('a throwing listenererror listener is swallowed, not looped', (t) => {
  const door = new Door();
  let calls = 0;
  door.on('listenererror', () => {
    calls++;
    throw new Error('reporter broke');
  });
  door.on('opened', () => {
    throw new Error('x');
  });
  t.notThrows(() => door.open('cy'));
  t.is(calls, 1);
});
