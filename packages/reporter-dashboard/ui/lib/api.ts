// The page's side of the JSON API: the token, authenticated requests, actions, the session file.
import type { ActionRecord } from '@loadlight/core';
import { API, TOKEN_PARAM, type ActionRequest, type ActionResponse, type HistoryResponse } from '../../src/protocol.js';
import type { ProbeResult } from './connection.js';

export const TOKEN_STORAGE_KEY = 'loadlight.dashboard.token';

interface StorageLike {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
}

/**
 * The token from the page URL's `?token=` (kept in sessionStorage, so that a reload without it
 * still works), else the one kept earlier. Returns the URL to show without the token, so that it
 * does not linger in the address bar, history or a screenshot.
 */
export function takeToken(href: string, storage: StorageLike | null): { token: string | null; cleanHref: string | null } {
  const url = new URL(href);
  const fromUrl = url.searchParams.get(TOKEN_PARAM);
  if (fromUrl) {
    try {
      storage?.setItem(TOKEN_STORAGE_KEY, fromUrl);
    } catch {
      // storage disabled: the token still works for this page
    }
    url.searchParams.delete(TOKEN_PARAM);
    return { token: fromUrl, cleanHref: url.toString() };
  }
  let kept: string | null = null;
  try {
    kept = storage?.getItem(TOKEN_STORAGE_KEY) ?? null;
  } catch {
    kept = null;
  }
  return { token: kept, cleanHref: null };
}

/** An error answer of the API, with the server's message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export class ApiClient {
  constructor(
    readonly token: string | null,
    private readonly fetchImpl: typeof fetch = (...args) => fetch(...args),
  ) {}

  /** `path` with `?token=` when there is a token: for the EventSource and plain links. */
  withToken(path: string): string {
    if (!this.token) return path;
    return `${path}${path.includes('?') ? '&' : '?'}${TOKEN_PARAM}=${encodeURIComponent(this.token)}`;
  }

  get eventsUrl(): string {
    return this.withToken(API.events);
  }

  private headers(extra: Record<string, string> = {}): Record<string, string> {
    return { ...(this.token ? { Authorization: `Bearer ${this.token}` } : {}), ...extra };
  }

  private async request(path: string, init: RequestInit = {}): Promise<Response> {
    let response: Response;
    try {
      response = await this.fetchImpl(path, { ...init, headers: this.headers((init.headers ?? {}) as Record<string, string>) });
    } catch (error) {
      throw new ApiError(0, `cannot reach the program (${error instanceof Error ? error.message : String(error)})`);
    }
    if (!response.ok) {
      let message = `${response.status} ${response.statusText}`.trim();
      try {
        const body = (await response.json()) as { error?: unknown };
        if (typeof body.error === 'string') message = body.error;
      } catch {
        // not JSON: keep the status line
      }
      throw new ApiError(response.status, message);
    }
    return response;
  }

  async getJson<T>(path: string): Promise<T> {
    return (await (await this.request(path)).json()) as T;
  }

  history(metrics: readonly string[], seconds: number): Promise<HistoryResponse> {
    const query = new URLSearchParams({ seconds: String(seconds), metrics: metrics.join(',') });
    return this.getJson<HistoryResponse>(`${API.history}?${query}`);
  }

  /** Runs a registered action; a handler that threw still resolves, with `ok: false`. */
  async runAction(id: string, recommendation?: string): Promise<ActionRecord> {
    const body: ActionRequest = recommendation ? { recommendation } : {};
    const response = await this.request(API.action(id), {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    return ((await response.json()) as ActionResponse).record;
  }

  /** The session profile so far, as a file: its bytes and a name (`<sessionId>.json`). */
  async session(fallbackName: string): Promise<{ blob: Blob; filename: string }> {
    const response = await this.request(API.session);
    const disposition = response.headers.get('Content-Disposition') ?? '';
    const match = /filename="?([^";]+)"?/.exec(disposition);
    return { blob: await response.blob(), filename: match?.[1] ?? fallbackName };
  }

  /** After the event stream was refused: is it the token, or is the program gone? */
  async probe(): Promise<ProbeResult> {
    try {
      await this.request(API.snapshot, { method: 'GET' });
      return 'ok';
    } catch (error) {
      if (error instanceof ApiError && (error.status === 401 || error.status === 403)) return 'unauthorized';
      return 'unreachable';
    }
  }
}
