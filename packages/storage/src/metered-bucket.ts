/**
 * Counts what one request costs in R2 terms: class A operations (put, list, multipart create/part/complete),
 * class B operations (get, head), deletes (free on R2) and bytes written. Used to measure, per request,
 * the storage work of pulls and pushes (the benchmark reads it from the `X-Storage-Ops` response header
 * when the worker runs with STORAGE_METRICS=on). Only the methods the stores call are wrapped.
 */
export interface StorageOps {
  /** Calls to Durable Objects (the index). */
  doCalls: number;
  /** Reads of the edge index (KV `get`, `getWithMetadata`, `list`). */
  kvReads: number;
  /** Writes to the edge index: made by the request, or queued by the index calls it made (their `edgeWrites`). */
  kvWrites: number;
  classA: number;
  classB: number;
  deletes: number;
  bytesWritten: number;
  bytesRead: number;
}

export function newStorageOps(): StorageOps {
  return { doCalls: 0, kvReads: 0, kvWrites: 0, classA: 0, classB: 0, deletes: 0, bytesWritten: 0, bytesRead: 0 };
}

/** `X-Storage-Ops` header value: `do=1, kv-read=0, kv-write=0, r2-a=1, r2-b=2, r2-delete=0, r2-written=123, r2-read=0`. */
export function formatStorageOps(ops: StorageOps): string {
  return `do=${ops.doCalls}, kv-read=${ops.kvReads}, kv-write=${ops.kvWrites}, r2-a=${ops.classA}, r2-b=${ops.classB}, r2-delete=${ops.deletes}, r2-written=${ops.bytesWritten}, r2-read=${ops.bytesRead}`;
}

/** A view of `bucket` that adds every operation to `ops`. */
export function meterBucket(bucket: R2Bucket, ops: StorageOps): R2Bucket {
  const metered = {
    async head(key: string) {
      ops.classB++;
      return bucket.head(key);
    },
    async get(key: string, options?: R2GetOptions) {
      ops.classB++;
      const obj = await bucket.get(key, options);
      if (obj && "body" in obj) ops.bytesRead += obj.range && "length" in obj.range ? (obj.range.length ?? obj.size) : obj.size;
      return obj;
    },
    async put(key: string, value: Parameters<R2Bucket["put"]>[1], options?: R2PutOptions) {
      ops.classA++;
      const obj = await bucket.put(key, value, options);
      if (obj) ops.bytesWritten += obj.size;
      return obj;
    },
    async list(options?: R2ListOptions) {
      ops.classA++;
      return bucket.list(options);
    },
    async delete(keys: string | string[]) {
      ops.deletes += Array.isArray(keys) ? keys.length : 1;
      return bucket.delete(keys);
    },
    async createMultipartUpload(key: string, options?: R2MultipartOptions) {
      ops.classA++;
      return meterUpload(await bucket.createMultipartUpload(key, options), ops);
    },
    resumeMultipartUpload(key: string, uploadId: string) {
      return meterUpload(bucket.resumeMultipartUpload(key, uploadId), ops);
    },
  };
  return metered as unknown as R2Bucket;
}

function meterUpload(upload: R2MultipartUpload, ops: StorageOps): R2MultipartUpload {
  return {
    key: upload.key,
    uploadId: upload.uploadId,
    async uploadPart(n: number, value: Parameters<R2MultipartUpload["uploadPart"]>[1], options?: R2UploadPartOptions) {
      ops.classA++;
      if (value instanceof Uint8Array || value instanceof ArrayBuffer) ops.bytesWritten += value.byteLength;
      return upload.uploadPart(n, value, options);
    },
    async complete(parts: R2UploadedPart[]) {
      ops.classA++;
      return upload.complete(parts);
    },
    async abort() {
      ops.deletes++;
      return upload.abort();
    },
  } as R2MultipartUpload;
}

/** A view of a KV namespace that adds every operation to `ops`. */
export function meterKv(kv: KVNamespace, ops: StorageOps): KVNamespace {
  const read =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...args: A) => {
      ops.kvReads++;
      return f(...args);
    };
  const write =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    (...args: A) => {
      ops.kvWrites++;
      return f(...args);
    };
  return {
    get: read(kv.get.bind(kv)),
    getWithMetadata: read(kv.getWithMetadata.bind(kv)),
    list: read(kv.list.bind(kv)),
    put: write(kv.put.bind(kv)),
    delete: write(kv.delete.bind(kv)),
  } as unknown as KVNamespace;
}

/**
 * A view of a Durable Object namespace whose stubs count every RPC call in `ops` (one call = one
 * round trip to the object, whatever it does inside), and the edge-index writes a call reports it queued
 * (a result with a numeric `edgeWrites`).
 */
export function meterNamespace<T extends Rpc.DurableObjectBranded | undefined>(
  ns: DurableObjectNamespace<T>,
  ops: StorageOps,
): DurableObjectNamespace<T> {
  return {
    idFromName: (name: string) => ns.idFromName(name),
    get(id: DurableObjectId) {
      const stub = ns.get(id);
      // Stubs are themselves proxies: call methods on the stub (not via Reflect/apply with another receiver).
      return new Proxy(stub, {
        get(target, prop) {
          const t = target as unknown as Record<string | symbol, (...a: unknown[]) => unknown>;
          if (typeof t[prop] !== "function") return t[prop];
          return (...args: unknown[]) => {
            ops.doCalls++;
            return Promise.resolve(t[prop]!(...args)).then((result) => {
              const queued = (result as { edgeWrites?: unknown } | null)?.edgeWrites;
              if (typeof queued === "number") ops.kvWrites += queued;
              return result;
            });
          };
        },
      });
    },
  } as unknown as DurableObjectNamespace<T>;
}
