/**
 * load — a config file from disk: read, parse (YAML through the `yaml` package; `.json` as
 * JSON), substitute `${ENV_VAR}` (and `${ENV_VAR:-default}`) in every string, validate.
 * Every problem comes back at once, each at its path; the thrown error is an IvError
 * (IV_ERR_INVALID_PARAM, field = the first path) carrying them all.
 * Owns: file syntax and substitution. Must never: print, exit, or echo a substituted
 * value (secrets come from the environment) in a problem.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { createRequire } from 'node:module';
import { IvError } from '../../runtime/errors.js';
import { Checker, join } from './check.js';
import type { ConfigProblem, GatewayConfig } from './schema.js';
import { deviceSection, validateConfig } from './validate.js';

type YamlModule = typeof import('yaml');
let yaml: YamlModule | undefined;

/** The YAML parser, loaded when a YAML file is first read: a gateway on its embedded defaults never pays its ~1 MB of heap. */
function yamlParser(): YamlModule {
  yaml ??= createRequire(import.meta.url)('yaml') as YamlModule;
  return yaml;
}

export class ConfigError extends IvError {
  constructor(readonly file: string, readonly problems: ConfigProblem[]) {
    const line = (p: ConfigProblem): string => (p.path ? `${p.path}: ${p.message}` : p.message);
    super('IV_ERR_INVALID_PARAM', problems.length === 1 ? `${file}: ${line(problems[0] as ConfigProblem)}` : `${file}: ${problems.length} problems:\n${problems.map((p) => `  ${line(p)}`).join('\n')}`, { field: problems[0]?.path ?? '' });
  }
}

/** Parse the text of a config (YAML, or JSON when `json`); problems carry line numbers. */
export function parseConfigText(text: string, json: boolean): { doc: unknown } | { problems: ConfigProblem[] } {
  if (json) {
    try {
      return { doc: JSON.parse(text) as unknown };
    } catch (err) {
      return { problems: [{ path: '', message: `not valid JSON: ${(err as Error).message}` }] };
    }
  }
  const doc = yamlParser().parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { problems: doc.errors.map((e) => ({ path: '', message: `not valid YAML: ${e.message.split('\n')[0] ?? e.message}` })) };
  }
  return { doc: doc.toJS() as unknown };
}

/** `${NAME}` / `${NAME:-default}` in every string of the document; a variable that is not set is a problem at its path. */
export function substituteEnv(doc: unknown, env: NodeJS.ProcessEnv, problems: ConfigProblem[], path = ''): unknown {
  if (typeof doc === 'string') {
    return doc.replace(/\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g, (whole, name: string | undefined, dflt: string | undefined) => {
      if (whole === '$$') {
        return '$';
      }
      const v = env[name as string];
      if (v !== undefined && v !== '') {
        return v;
      }
      if (dflt !== undefined) {
        return dflt;
      }
      problems.push({ path, message: `environment variable ${name} is not set` });
      return '';
    });
  }
  if (Array.isArray(doc)) {
    return doc.map((v, i) => substituteEnv(v, env, problems, join(path, i)));
  }
  if (typeof doc === 'object' && doc !== null) {
    return Object.fromEntries(Object.entries(doc).map(([k, v]) => [k, substituteEnv(v, env, problems, join(path, k))]));
  }
  return doc;
}

/**
 * Only the `device:` section of the config in `file` (what `ivgw token` needs): the rest is
 * neither checked nor substituted, so it needs none of the cameras' environment variables.
 */
export function loadDeviceConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig['device'] {
  const doc = readConfigDoc(file);
  const problems: ConfigProblem[] = [];
  const raw = typeof doc === 'object' && doc !== null && !Array.isArray(doc) ? (doc as Record<string, unknown>).device : undefined;
  const c = new Checker();
  const { id, data } = deviceSection(c, substituteEnv(raw, env, problems, 'device'), (p) => (isAbsolute(p) ? p : resolve(dirname(resolve(file)), p)));
  const all = [...problems, ...c.problems];
  if (all.length > 0) {
    throw new ConfigError(file, all);
  }
  return { id: id ?? '', data };
}

/** The parsed document in `file` (YAML or JSON), or a ConfigError. */
function readConfigDoc(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new ConfigError(file, [{ path: '', message: `cannot read the config file: ${e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.message}` }]);
  }
  const parsed = parseConfigText(text, /\.json$/i.test(file));
  if ('problems' in parsed) {
    throw new ConfigError(file, parsed.problems);
  }
  return parsed.doc;
}

/** The config in `file`, or a ConfigError listing every problem. */
export function loadConfig(file: string, env: NodeJS.ProcessEnv = process.env): GatewayConfig {
  const problems: ConfigProblem[] = [];
  const doc = substituteEnv(readConfigDoc(file), env, problems);
  const result = validateConfig(doc, dirname(resolve(file)));
  const envPaths = new Set(problems.map((p) => p.path));
  const all = [...problems, ...('problems' in result ? result.problems.filter((p) => !envPaths.has(p.path)) : missingFiles(result.config))];
  if (all.length > 0 || !('config' in result)) {
    throw new ConfigError(file, all);
  }
  return result.config;
}

/** Files the config names that cannot be read (camera files, TLS certificates and keys). */
export function missingFiles(c: GatewayConfig): ConfigProblem[] {
  const files: [string, string][] = [];
  c.cameras.forEach((cam, i) => {
    if (cam.source.kind === 'file') {
      files.push([`cameras[${i}].source`, cam.source.video]);
      if (cam.source.audio) {
        files.push([`cameras[${i}].audioFile`, cam.source.audio]);
      }
    }
  });
  const sig = c.signaling;
  if (sig.kind === 'embedded' && sig.tls) {
    files.push(['signaling.embedded.tls.cert', sig.tls.cert], ['signaling.embedded.tls.key', sig.tls.key]);
  } else if (sig.kind === 'external') {
    for (const k of ['ca', 'cert', 'key'] as const) {
      const f = sig.tls?.[k];
      if (f) {
        files.push([`signaling.external.tls.${k}`, f]);
      }
    }
  }
  const out: ConfigProblem[] = [];
  for (const [path, file] of files) {
    try {
      accessSync(file, constants.R_OK);
    } catch (err) {
      out.push({ path, message: `cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as NodeJS.ErrnoException).code ?? 'error'}` });
    }
  }
  return out;
}
