/**
 * Test helpers: raw HTTP requests (paths sent exactly as written, any header) and an SSE reader.
 * Used by the tests only; not part of the package's entry.
 */
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';

export interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  json: unknown;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string>;
  body?: string;
}

/** Sends one request to `origin` with `path` untouched (no normalisation of `..` or `%2e`). */
export function send(origin: string, path: string, options: RequestOptions = {}): Promise<Answer> {
  const base = new URL(origin);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: base.hostname.replace(/^\[|\]$/g, ''),
        port: base.port,
        method: options.method ?? 'GET',
        path,
        headers: { ...(options.body !== undefined ? { 'Content-Length': String(Buffer.byteLength(options.body)) } : {}), ...options.headers },
        agent: false,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let json: unknown = undefined;
          try {
            json = JSON.parse(text);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface SseEvent {
  event: string;
  data: unknown;
}

/** An open `text/event-stream` response, parsed into events as they arrive. */
export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | null = null;
  status = 0;
  headers: IncomingHttpHeaders = {};
  ended = false;
  private buffer = '';
  private readonly req: ReturnType<typeof httpRequest>;
  readonly ready: Promise<void>;

  constructor(origin: string, path: string, headers: Record<string, string> = {}) {
    const base = new URL(origin);
    let ready!: () => void;
    let failed!: (error: Error) => void;
    this.ready = new Promise((resolve, reject) => {
      ready = resolve;
      failed = reject;
    });
    this.req = httpRequest({ host: base.hostname, port: base.port, path, headers, agent: false }, (res) => {
      this.status = res.statusCode ?? 0;
      this.headers = res.headers;
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => this.feed(chunk));
      res.on('end', () => (this.ended = true));
      res.on('close', () => (this.ended = true));
      res.on('error', () => (this.ended = true));
      ready();
    });
    this.req.on('error', (error) => {
      this.ended = true;
      failed(error);
    });
    this.req.end();
  }

  named(name: string): SseEvent[] {
    return this.events.filter((e) => e.event === name);
  }

  close(): void {
    this.req.destroy();
  }

  private feed(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\n\n')) !== -1) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      let name = 'message';
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim());
        else if (line.startsWith('event: ')) name = line.slice(7);
        else if (line.startsWith('data: ')) data.push(line.slice(6));
        else if (line.startsWith('retry: ')) this.retry = Number(line.slice(7));
      }
      if (data.length) this.events.push({ event: name, data: JSON.parse(data.join('\n')) as unknown });
    }
  }
}
