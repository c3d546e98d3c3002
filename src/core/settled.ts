/**
 * Awaits independent reads started together and fails as running them one after another would: with the
 * first one's error in the order given, whichever failed first in time.
 */
export async function settledInOrder<T extends readonly unknown[]>(promises: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const results = await Promise.allSettled(promises);
  for (const result of results) if (result.status === 'rejected') throw result.reason;
  return results.map((r) => (r as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
