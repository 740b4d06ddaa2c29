// api.js — the console's only way to the server: fetch() with the token from
// the token field (sessionStorage) as `Authorization: Bearer`, errors turned
// into ApiError with the API's {"error":{code,message,param}}, an upload over
// XMLHttpRequest (the one browser API that reports bytes sent), and
// Server-Sent Events read from a fetch() body — EventSource cannot send an
// Authorization header, and a token in the URL would end up in logs.

const TOKEN_KEY = 'sluice.token';

export function getToken() { return sessionStorage.getItem(TOKEN_KEY) || ''; }
export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token); else sessionStorage.removeItem(TOKEN_KEY);
}

export function authHeaders(extra = {}) {
  const headers = {...extra};
  const token = getToken();
  if (token) headers.Authorization = 'Bearer ' + token;
  return headers;
}

export class ApiError extends Error {
  constructor(status, body, text) {
    const err = body && body.error;
    let message = err && err.message ? err.message : (text || 'HTTP ' + status);
    if (status === 401) message += ' — enter a token above';
    if (status === 0) message = 'the server cannot be reached';
    super(message);
    this.status = status;
    this.code = err ? err.code : '';
    this.param = err ? err.param : '';
    this.body = body;
  }
}

function parseJson(text) {
  try { return JSON.parse(text); } catch { return null; }
}

/** GET (or other) → parsed JSON; throws ApiError on a non-2xx answer. */
export async function apiJson(path, options = {}) {
  let response;
  try {
    response = await fetch(path, {...options, headers: authHeaders(options.headers)});
  } catch (e) {
    throw new ApiError(0, null, String(e));
  }
  const text = await response.text();
  const body = parseJson(text);
  if (!response.ok) throw new ApiError(response.status, body, text);
  return body;
}

/** GET → a Blob (CSV downloads) and the response headers. */
export async function apiBlob(path) {
  let response;
  try {
    response = await fetch(path, {headers: authHeaders()});
  } catch (e) {
    throw new ApiError(0, null, String(e));
  }
  if (!response.ok) {
    const text = await response.text();
    throw new ApiError(response.status, parseJson(text), text);
  }
  return {blob: await response.blob(), headers: response.headers};
}

/**
 * POSTs `file` as multipart/form-data to `url` with `Prefer: respond-async`
 * (the server answers 202 with the record as soon as the body is in).
 * onProgress(sent, total) follows the bytes sent. Resolves {status, body}.
 */
export function uploadFile(url, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', url);
    for (const [name, value] of Object.entries(authHeaders({Prefer: 'respond-async'}))) {
      xhr.setRequestHeader(name, value);
    }
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    xhr.addEventListener('load', () => {
      const body = parseJson(xhr.responseText);
      if (xhr.status >= 200 && xhr.status < 300) resolve({status: xhr.status, body});
      else reject(new ApiError(xhr.status, body, xhr.responseText));
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, null, 'network error')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, null, 'upload aborted')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
}

/**
 * Reads a text/event-stream answer and calls onEvent(name, data) for each
 * event (data parsed as JSON when it is). Resolves when the stream ends.
 */
export async function readEvents(path, onEvent, signal) {
  let response;
  try {
    response = await fetch(path, {headers: authHeaders({Accept: 'text/event-stream'}), signal});
  } catch (e) {
    throw new ApiError(0, null, String(e));
  }
  if (!response.ok) {
    const text = await response.text();
    throw new ApiError(response.status, parseJson(text), text);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  for (;;) {
    const {value, done} = await reader.read();
    if (done) break;
    buffer += value.replace(/\r\n?/g, '\n');
    let end;
    while ((end = buffer.indexOf('\n\n')) >= 0) {
      const block = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      let name = 'message';
      const data = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('event:')) name = line.slice(6).trim();
        else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      if (data.length === 0) continue;
      const text = data.join('\n');
      const parsed = parseJson(text);
      onEvent(name, parsed === null ? text : parsed);
    }
  }
}

/** Encodes one path segment (a table name may hold anything). */
export function seg(text) { return encodeURIComponent(text); }
