/**
 * deadline — race a promise against a timer: the promise's outcome, or IV_ERR_TIMEOUT
 * naming what did not answer. The timer never outlives the race.
 */
import { IvError } from './errors.js';

export function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new IvError('IV_ERR_TIMEOUT', `${what}: no answer within ${ms} ms`)), ms);
  });
  return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
}
