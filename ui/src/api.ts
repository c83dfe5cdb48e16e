/**
 * Calls to the admin API with the token typed into the login form. The token
 * lives in sessionStorage (gone with the tab), is sent only in the
 * Authorization header, and never appears in a URL.
 */

const KEY = 'fastify-gate.admin-token'

/** The admin API's prefix: the page is served at `<prefix>/ui/`. */
export const base = new URL('..', location.href).pathname.replace(/\/$/, '')

export function getToken (): string | null {
  return sessionStorage.getItem(KEY)
}

export function setToken (token: string | null): void {
  if (token === null) sessionStorage.removeItem(KEY)
  else sessionStorage.setItem(KEY, token)
}

/** An answer other than 2xx, in the admin API's error shape. */
export class ApiError extends Error {
  readonly status: number
  readonly code: string

  constructor (status: number, code: string, message: string) {
    super(message)
    this.status = status
    this.code = code
  }
}

/** Listeners told when the API answers 401 (the token is wrong or was rotated away). */
const unauthorized = new Set<() => void>()
export function onUnauthorized (fn: () => void): () => void {
  unauthorized.add(fn)
  return () => unauthorized.delete(fn)
}

/** GET (without `body`) or POST `path` under the admin prefix; resolves the parsed JSON. */
export async function api<T = any> (path: string, body?: unknown, token = getToken()): Promise<T> {
  const res = await fetch(base + path, {
    method: body === undefined ? 'GET' : 'POST',
    headers: {
      authorization: `Bearer ${token ?? ''}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' })
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: 'no-store',
    credentials: 'omit'
  })
  const answer = await res.json().catch(() => ({}))
  if (!res.ok) {
    if (res.status === 401) for (const fn of unauthorized) fn()
    throw new ApiError(res.status, answer.code ?? 'HTTP_' + res.status, answer.message ?? res.statusText)
  }
  return answer as T
}
