// The REST API with the console's session cookie; every change carries the page's CSRF token.

const csrfToken = document.querySelector('meta[name="csrf-token"]')?.content ?? "";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

/** Called when the server says the session is gone (401); set by the app. */
let onSignedOut = () => {};

export function whenSignedOut(callback) {
  onSignedOut = callback;
}

export async function request(method, path, body) {
  const headers = { Accept: "application/json" };
  if (method !== "GET") headers["X-CSRF-Token"] = csrfToken;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: "same-origin",
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    throw new ApiError(0, { detail: String(error) });
  }
  if (response.status === 401) onSignedOut();
  if (!response.ok) {
    const problem = await response.json().catch(() => null);
    throw new ApiError(response.status, problem);
  }
  return response.status === 204 ? null : response.json();
}

export const api = {
  get: (path) => request("GET", path),
  post: (path, body) => request("POST", path, body),
  patch: (path, body) => request("PATCH", path, body),
};

/** Fetch one of our own console pages (server-rendered, autoescaped) as a document. */
export async function fetchPage(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } });
  if (response.redirected && new URL(response.url).pathname === "/console/login") {
    onSignedOut();
    throw new ApiError(401, null);
  }
  if (!response.ok && response.status !== 404) throw new ApiError(response.status, null);
  const html = await response.text();
  return new DOMParser().parseFromString(html, "text/html");
}
