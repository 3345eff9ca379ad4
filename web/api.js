// The public API through the gateway, same origin, as any client calls it. Every failure
// becomes a Problem carrying the problem document's title and detail (RFC 9457).

const JSON_TYPES = ["application/json", "application/problem+json"];

/** A failed call: what the problem document says, and what the person can do about it. */
export class Problem extends Error {
  constructor({ status, type, title, detail, retryAfter }) {
    super(title);
    this.status = status;
    this.type = type || "about:blank";
    this.title = title;
    this.detail = detail || "";
    this.retryAfter = retryAfter;
  }

  /** The problem's slug: `urn:codeflow:problem:<slug>`. */
  get kind() {
    return this.type.replace(/^urn:codeflow:problem:/, "");
  }

  /** The session has ended, or GitHub's authorization has: signing in again helps. */
  get needsSignIn() {
    return this.status === 401 || this.kind === "reauthentication-required";
  }
}

async function readBody(response) {
  const type = (response.headers.get("content-type") || "").split(";")[0].trim();
  if (response.status === 204 || response.status === 304) return null;
  if (JSON_TYPES.includes(type)) return response.json();
  return response.text();
}

function retryAfterSeconds(response) {
  const value = response.headers.get("retry-after");
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(1, Math.ceil(seconds));
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(1, Math.ceil((at - Date.now()) / 1000));
}

async function problemOf(response) {
  let body = null;
  try {
    body = await readBody(response);
  } catch {
    body = null;
  }
  const document = body && typeof body === "object" ? body : {};
  return new Problem({
    status: response.status,
    type: document.type,
    title: document.title || `${response.status} ${response.statusText || "Request failed"}`,
    detail: document.detail,
    retryAfter: retryAfterSeconds(response),
  });
}

/**
 * Call the API: `body` is sent as JSON, `csrf` as auth's X-CSRF-Token header.
 * Answers `{ status, body, headers }`; a failure (or no answer at all) throws a Problem.
 */
export async function call(method, path, { body, csrf } = {}) {
  const headers = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (csrf) headers["X-CSRF-Token"] = csrf;
  let response;
  try {
    response = await fetch(path, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      credentials: "same-origin",
      cache: "no-store",
    });
  } catch {
    throw new Problem({
      status: 0,
      title: "CodeFlow could not be reached",
      detail: "Check your connection, then try again.",
    });
  }
  if (!response.ok) throw await problemOf(response);
  return { status: response.status, body: await readBody(response), headers: response.headers };
}

/** Who is signed in (`{user, expires}`), or null. */
export async function session() {
  return (await call("GET", "/auth/session")).body;
}

/** Auth's writes take the session's CSRF token; it is asked for right before each. */
export async function authWrite(method, path) {
  const { body } = await call("GET", "/auth/csrf");
  return call(method, path, { csrf: body.csrfToken });
}

export function signInUrl(returnTo = "/") {
  return `/auth/signin/github?callbackUrl=${encodeURIComponent(returnTo)}`;
}
