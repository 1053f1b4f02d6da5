import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP, type AddressInfo } from 'node:net';
import { describeError, LoadlightError } from '@loadlight/core';
import type { Exporter } from './exporter.js';
import { NAME } from './options.js';

export interface ServerOptions {
  host: string;
  port: number;
  path: string;
}

/**
 * Serves the exposition at `path` (GET and HEAD). It never keeps the process alive: the listening
 * socket and every connection (Prometheus keeps its connection open between scrapes) are unref'd.
 */
export class MetricsServer {
  private readonly server: Server;
  private address: AddressInfo | null = null;

  constructor(
    private readonly exporter: Exporter,
    private readonly options: ServerOptions,
  ) {
    this.server = createServer((request, response) => void this.handle(request, response));
    this.server.on('connection', (socket) => socket.unref());
  }

  /** `http://<host>:<port><path>` while listening, else null. */
  get url(): string | null {
    if (!this.address) return null;
    const { host } = this.options;
    // An unspecified address listens everywhere: loopback reaches it from here.
    const shown = host === '0.0.0.0' ? '127.0.0.1' : host === '::' ? '::1' : host;
    return `http://${isIP(shown) === 6 ? `[${shown}]` : shown}:${this.address.port}${this.options.path}`;
  }

  listen(): Promise<void> {
    const { host, port } = this.options;
    return new Promise((resolve, reject) => {
      const onError = (error: NodeJS.ErrnoException) => {
        const why = error.code === 'EADDRINUSE' ? 'the port is in use (set "port" to another one, or 0 for a free one)' : describeError(error);
        reject(new LoadlightError('PLUGIN_ERROR', `cannot listen on ${host}:${port}: ${why}`, { plugin: NAME, hook: 'start', cause: error }));
      };
      this.server.once('error', onError);
      this.server.listen(port, host, () => {
        this.server.off('error', onError);
        this.server.unref();
        this.address = this.server.address() as AddressInfo;
        resolve();
      });
    });
  }

  close(): Promise<void> {
    this.address = null;
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const path = (request.url ?? '/').split('?')[0];
    if (path !== this.options.path) {
      return send(response, 404, `not found: the metrics are at ${this.options.path}\n`);
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD');
      return send(response, 405, `method ${request.method ?? ''} not allowed: use GET\n`);
    }
    let body: string;
    try {
      body = await this.exporter.metrics();
    } catch (error) {
      return send(response, 500, `could not render the metrics: ${describeError(error)}\n`);
    }
    response.writeHead(200, {
      'Content-Type': this.exporter.registry.contentType,
      'Content-Length': Buffer.byteLength(body),
      'Cache-Control': 'no-store',
    });
    response.end(request.method === 'HEAD' ? undefined : body);
  }
}

function send(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
