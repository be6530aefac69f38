/**
 * The only way the designer talks to the server: JSON over /api/v1 with the session cookie
 * and the CSRF token on unsafe requests (README, "Signing in and roles"). A 401 sends the user back
 * to the login screen.
 */
import { language } from './i18n.js';

const UNSAFE = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
let csrfToken = sessionStorage.getItem('dealflow.csrf') || '';
let onUnauthorized = () => {};

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

export function setCsrf(token) {
  csrfToken = token || '';
  sessionStorage.setItem('dealflow.csrf', csrfToken);
}

export function whenUnauthorized(fn) {
  onUnauthorized = fn;
}

export async function request(method, path, body, { contentType, text } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': language() };
  if (UNSAFE.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  let payload;
  if (body !== undefined) {
    if (contentType) {
      headers['Content-Type'] = contentType;
      payload = body;
    } else {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
  }
  const response = await fetch(`/api/v1${path}`, { method, headers, body: payload, credentials: 'same-origin' });
  const isJson = (response.headers.get('Content-Type') || '').includes('json');
  const data = text && response.ok ? await response.text() : isJson ? await response.json() : await response.text();
  if (response.status === 401 && !path.startsWith('/auth/')) onUnauthorized();
  if (!response.ok) throw new ApiError(response.status, isJson ? data : { message: String(data).slice(0, 200) });
  return data;
}

export const api = {
  get: (path, opts) => request('GET', path, undefined, opts),
  post: (path, body, opts) => request('POST', path, body, opts),
  put: (path, body, opts) => request('PUT', path, body, opts),
  patch: (path, body, opts) => request('PATCH', path, body, opts),
  delete: (path, opts) => request('DELETE', path, undefined, opts),
};

/** Actions and vocabulary change only with a deploy of the server: fetched once per page. */
const cached = {};
export function once(path) {
  cached[path] = cached[path] || api.get(path).catch((err) => {
    delete cached[path];
    throw err;
  });
  return cached[path];
}
