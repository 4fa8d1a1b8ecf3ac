import test from 'ava';
import { RequestGuard, mintToken, verifyToken } from '../../shared/protocol/access-token.js';
import { isIvError } from '../../runtime/errors.js';

const SECRET = 'device-secret-for-tests';
const now = Math.floor(Date.now() / 1000);
const token = (over: Partial<Parameters<typeof mintToken>[1]> = {}) => mintToken(SECRET, { deviceId: 'dev1', peerId: 'app1', expires: now + 60, rights: ['live', 'command'], ...over });
const expect = { deviceId: 'dev1', peerId: 'app1', right: 'live' as const };

test('a token minted with the device secret verifies for its device, peer and rights', (t) => {
  t.like(verifyToken(SECRET, token(), expect), { ok: true, claims: { deviceId: 'dev1', peerId: 'app1', rights: ['live', 'command'] } });
});

test('missing, forged, expired, wrong-peer and under-privileged tokens are refused with their own code', (t) => {
  t.like(verifyToken(SECRET, undefined, expect), { ok: false, code: 'IV_ERR_AUTH_MISSING' });
  t.like(verifyToken('another-secret', token(), expect), { ok: false, code: 'IV_ERR_AUTH_INVALID' });
  const [a, claims, sig] = token().split('.') as [string, string, string];
  const tampered = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(claims, 'base64url').toString()), r: ['live', 'voice', 'command', 'playback'] })).toString('base64url');
  t.like(verifyToken(SECRET, `${a}.${tampered}.${sig}`, expect), { ok: false, code: 'IV_ERR_AUTH_INVALID' }, 'claims changed after signing');
  t.like(verifyToken(SECRET, 'garbage', expect), { ok: false, code: 'IV_ERR_AUTH_INVALID' });
  t.like(verifyToken(SECRET, token({ expires: now - 1 }), expect), { ok: false, code: 'IV_ERR_AUTH_EXPIRED' });
  t.like(verifyToken(SECRET, token({ peerId: 'app2' }), expect), { ok: false, code: 'IV_ERR_AUTH_WRONG_PEER' });
  t.like(verifyToken(SECRET, token({ deviceId: 'dev2' }), expect), { ok: false, code: 'IV_ERR_AUTH_WRONG_PEER' });
  t.like(verifyToken(SECRET, token(), { ...expect, right: 'voice' }), { ok: false, code: 'IV_ERR_AUTH_RIGHTS' });
});

test('minting refuses bad claims with a typed error naming the field', (t) => {
  t.is((t.throws(() => token({ rights: ['admin' as 'live'] })) as { field?: string }).field, 'rights');
  t.is((t.throws(() => token({ peerId: '' })) as { field?: string }).field, 'peerId');
  t.true(isIvError(t.throws(() => token({ expires: 1.5 })), 'IV_ERR_INVALID_PARAM'));
});

test('a replayed or stale signaling request is refused', (t) => {
  let clock = 1_000_000;
  const guard = new RequestGuard(120_000, 3, () => clock);
  t.deepEqual(guard.check('req-aaaaaaaa', clock), { ok: true });
  t.like(guard.check('req-aaaaaaaa', clock), { ok: false, code: 'IV_ERR_AUTH_REPLAYED' });
  t.like(guard.check('req-bbbbbbbb', clock - 61_000), { ok: false, code: 'IV_ERR_AUTH_REPLAYED' });
  t.like(guard.check('short', clock), { ok: false, code: 'IV_ERR_INVALID_PARAM' });
  clock += 121_000;
  t.deepEqual(guard.check('req-aaaaaaaa', clock), { ok: true }, 'ids are forgotten after the window');
  for (const id of ['req-11111111', 'req-22222222', 'req-33333333', 'req-44444444']) {
    t.deepEqual(guard.check(id, clock), { ok: true });
  }
});

test('ivgw token mints a token the device accepts, and refuses bad usage', async (t) => {
  const { spawnSync } = await import('node:child_process');
  const { fileURLToPath } = await import('node:url');
  const ivgw = fileURLToPath(new URL('../../../bin/ivgw.js', import.meta.url));
  const env = { ...process.env, IVGW_DEVICE_ID: 'dev1', IVGW_DEVICE_SECRET: SECRET };
  const r = spawnSync(process.execPath, [ivgw, 'token', '--peer', 'app1', '--rights', 'live,voice', '--ttl', '60'], { encoding: 'utf8', env });
  t.is(r.status, 0, r.stderr);
  t.like(verifyToken(SECRET, r.stdout.trim(), { ...expect, right: 'voice' }), { ok: true, claims: { rights: ['live', 'voice'] } });
  t.is(spawnSync(process.execPath, [ivgw, 'token', '--peer', 'app1', '--rights', 'root'], { encoding: 'utf8', env }).status, 2);
  // no secret anywhere (run where no ./ivgw-data identity exists)
  t.is(spawnSync(process.execPath, [ivgw, 'token', '--peer', 'app1'], { encoding: 'utf8', cwd: (await import('node:os')).tmpdir(), env: { ...process.env, IVGW_DEVICE_SECRET: '' } }).status, 2);
});
