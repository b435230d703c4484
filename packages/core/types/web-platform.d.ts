/**
 * The slice of the web platform that `@registry/core` relies on, declared by hand.
 *
 * Core compiles with `lib: ["es2022"]` and `types: []` so that nothing from Node (`node:*`, `Buffer`) or
 * Workers (`cloudflare:*`, bindings) can creep in. What remains are the WHATWG/W3C APIs that both Node 20
 * and workerd expose as globals: WebCrypto's `crypto.subtle.digest`, streams, `Response`, text codecs,
 * base64 (`btoa`/`atob`) and `console`. Each declaration is a strict subset of the matching
 * `lib.dom.d.ts` / `@cloudflare/workers-types` declaration, so code that checks here also checks in the
 * packages that compile core's sources against those richer libraries.
 *
 * This file is only part of core's own compilation (see tsconfig `include`); consumers use their own libs.
 */

type BufferSource = ArrayBufferView<ArrayBuffer> | ArrayBuffer;
type HeadersInit = Record<string, string> | [string, string][] | Headers;
type BodyInit = ReadableStream<Uint8Array> | string | ArrayBuffer | ArrayBufferView<ArrayBuffer>;

interface SubtleCrypto {
  digest(algorithm: "SHA-1" | "SHA-256" | "SHA-384" | "SHA-512", data: BufferSource): Promise<ArrayBuffer>;
}
interface Crypto {
  readonly subtle: SubtleCrypto;
  getRandomValues<T extends Uint8Array<ArrayBuffer>>(array: T): T;
}
declare var crypto: Crypto;

interface TextDecoderOptions { fatal: boolean; ignoreBOM: boolean }
interface TextDecoder { decode(input?: BufferSource): string }
declare var TextDecoder: { new (label?: string, options?: TextDecoderOptions): TextDecoder };
interface TextEncoder { encode(input?: string): Uint8Array<ArrayBuffer> }
declare var TextEncoder: { new (): TextEncoder };

declare function btoa(data: string): string;
declare function atob(data: string): string;

interface Console { log(...data: unknown[]): void }
declare var console: Console;
interface Performance { now(): number }
declare var performance: Performance;

type ReadableStreamReadResult<T> = { done: false; value: T } | { done: true; value?: undefined };
interface ReadableStreamDefaultReader<R> {
  read(): Promise<ReadableStreamReadResult<R>>;
  releaseLock(): void;
  cancel(reason?: unknown): Promise<void>;
}
interface ReadableStreamDefaultController<R> {
  enqueue(chunk: R): void;
  close(): void;
  error(e?: unknown): void;
}
interface UnderlyingSource<R> {
  start?(controller: ReadableStreamDefaultController<R>): void | Promise<void>;
  pull?(controller: ReadableStreamDefaultController<R>): void | Promise<void>;
  cancel?(reason?: unknown): void | Promise<void>;
}
interface ReadableStream<R = unknown> {
  readonly locked: boolean;
  getReader(): ReadableStreamDefaultReader<R>;
  pipeThrough<T>(transform: { writable: WritableStream<R>; readable: ReadableStream<T> }): ReadableStream<T>;
  pipeTo(destination: WritableStream<R>): Promise<void>;
  cancel(reason?: unknown): Promise<void>;
}
declare var ReadableStream: { new <R = unknown>(source?: UnderlyingSource<R>): ReadableStream<R> };

interface WritableStreamDefaultWriter<W> {
  write(chunk: W): Promise<void>;
  close(): Promise<void>;
  abort(reason?: unknown): Promise<void>;
  releaseLock(): void;
}
interface WritableStream<W = unknown> {
  readonly locked: boolean;
  getWriter(): WritableStreamDefaultWriter<W>;
  abort(reason?: unknown): Promise<void>;
}
interface TransformStreamDefaultController<O> {
  enqueue(chunk: O): void;
  error(reason?: unknown): void;
  terminate(): void;
}
interface Transformer<I, O> {
  start?(controller: TransformStreamDefaultController<O>): void | Promise<void>;
  transform?(chunk: I, controller: TransformStreamDefaultController<O>): void | Promise<void>;
  flush?(controller: TransformStreamDefaultController<O>): void | Promise<void>;
}
interface TransformStream<I = unknown, O = unknown> {
  readonly readable: ReadableStream<O>;
  readonly writable: WritableStream<I>;
}
declare var TransformStream: { new <I = unknown, O = unknown>(transformer?: Transformer<I, O>): TransformStream<I, O> };

interface Headers {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  forEach(callback: (value: string, key: string) => void): void;
}
declare var Headers: { new (init?: HeadersInit): Headers };
interface ResponseInit { status?: number; statusText?: string; headers?: HeadersInit }
interface Response {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  readonly body: ReadableStream<Uint8Array> | null;
  text(): Promise<string>;
  json(): Promise<unknown>;
  arrayBuffer(): Promise<ArrayBuffer>;
}
declare var Response: { new (body?: BodyInit | null, init?: ResponseInit): Response };
