/**
 * The fault-injection hook of garbage collection (tests only: GC_TEST_HOOKS=on and `injectFaults(rate)`): views of
 * the R2 bucket and of Durable Object namespaces whose calls fail with probability `rate` — half of the failures
 * before the call is made, half after it took effect (the caller sees an error for work that was done), which
 * is what a storage timeout or an evicted isolate looks like.
 */
export class InjectedFault extends Error {
  constructor(what: string) {
    super(`injected fault: ${what}`);
  }
}

function wrap<T extends object>(target: T, rate: number, label: string): T {
  // Stubs and bindings are proxies themselves: call their methods on them, not through Reflect with another receiver.
  return new Proxy(target, {
    get(t, prop) {
      const value = (t as Record<string | symbol, unknown>)[prop];
      if (typeof value !== "function") return value;
      return (...args: unknown[]) => {
        const name = `${label}.${String(prop)}`;
        if (Math.random() < rate / 2) return Promise.reject(new InjectedFault(`${name} (before)`));
        const result = (t as Record<string | symbol, (...a: unknown[]) => unknown>)[prop]!(...args);
        if (!(result instanceof Promise) && !(result && typeof (result as { then?: unknown }).then === "function")) return result;
        return Promise.resolve(result).then((v) => {
          if (Math.random() < rate / 2) throw new InjectedFault(`${name} (after)`);
          return v;
        });
      };
    },
  });
}

export function faultyBucket(bucket: R2Bucket, rate: number): R2Bucket {
  return wrap(bucket, rate, "r2");
}

export function faultyNamespace<T extends Rpc.DurableObjectBranded | undefined>(ns: DurableObjectNamespace<T>, rate: number): DurableObjectNamespace<T> {
  return {
    idFromName: (name: string) => ns.idFromName(name),
    get: (id: DurableObjectId) => wrap(ns.get(id), rate, "object"),
  } as unknown as DurableObjectNamespace<T>;
}
