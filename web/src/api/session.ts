// Sign-in, kept in this one module (issue 14, decision 025; decision 029):
//   POST   /api/session {person, password, totp} → {person, name, division, body, roles,
//          method, token, csrf_token, expires_at}; sets the HttpOnly session cookie `xf_session`
//          and the readable `xf_csrf` cookie
//   GET    /api/me → the signed-in person, with body_name and roles_zh (401 when not signed in)
//   DELETE /api/session → signs out, clears both cookies
// Every state-changing request then sends `X-CSRF-Token` (csrfHeaders below). The bearer
// `token` of the answer is for the CLI and scripts: the page keeps only the cookie. If the
// contract moves, only this file changes.
// A person signed in at the OIDC provider (api/oidc.ts, decision 035) has no cookie: every
// request carries `Authorization: Bearer` (authHeaders below) instead.
import { reactive } from "vue";
import { ApiRefusal, readJson } from "./errors";
import { accessToken, dropToken } from "./oidc";

export interface Person {
  person: string;
  name: string;
  division: string;
  body: string;
  body_name?: string;
  roles: string[];
  roles_zh?: string[];
  method?: string;
}

export const SESSION_PATH = "/api/session";
export const ME_PATH = "/api/me";
export const CSRF_COOKIE = "xf_csrf";
export const CSRF_HEADER = "X-CSRF-Token";

export const session = reactive<{ me: Person | null; csrf: string | null; checked: boolean }>({
  me: null,
  csrf: null,
  checked: false,
});

function cookie(name: string): string | null {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return null;
}

/** Headers a state-changing request carries: the session's CSRF token, when there is one. */
export function csrfHeaders(): Record<string, string> {
  const token = cookie(CSRF_COOKIE) ?? session.csrf;
  return token ? { [CSRF_HEADER]: token } : {};
}

/** The bearer header of an OIDC sign-in, when there is one (no cookie is then involved). */
export function authHeaders(): Record<string, string> {
  const token = accessToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** The node answered 401 to a person signed in at the OIDC provider: the token expired (or was
 *  refused). Sign in again: to /login, coming back to this page afterwards. */
export function signInAgain(): void {
  if (session.me?.method !== "oidc") return;
  dropToken();
  session.me = null;
  const next = window.location.pathname + window.location.search;
  window.location.assign(`/login?next=${encodeURIComponent(next)}`);
}

/** Sign in with password and TOTP; throws ApiRefusal (401 wrong, 429 throttled, …). */
export async function signIn(person: string, password: string, totp: string): Promise<Person> {
  const response = await fetch(SESSION_PATH, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ person, password, totp }),
  });
  const body = await readJson(response);
  if (!response.ok) throw ApiRefusal.from(response.status, body);
  const answer = body as Person & { csrf_token?: string };
  session.csrf = answer.csrf_token ?? cookie(CSRF_COOKIE);
  const { person: who, name, division, body: at, roles, method } = answer;
  session.me = { person: who, name, division, body: at, roles, method };
  // the display names (body_name, roles_zh) come with /api/me
  session.me = (await whoAmI().catch(() => null)) ?? session.me;
  session.checked = true;
  return session.me;
}

/** The signed-in person, or null (not signed in, or the session ended). Without the CSRF
 *  cookie there is no session to ask about: no request (and no 401 in the browser's console). */
export async function whoAmI(): Promise<Person | null> {
  const bearer = authHeaders();
  if (!session.me && !cookie(CSRF_COOKIE) && !bearer.Authorization) {
    session.checked = true;
    return null;
  }
  const response = await fetch(ME_PATH, { credentials: "same-origin", headers: bearer });
  const body = await readJson(response);
  session.checked = true;
  if (!response.ok) {
    session.me = null;
    // a token the node refuses (expired: 401; another division, no role: 403) is dropped
    if (bearer.Authorization) dropToken();
    if (response.status === 401 || response.status === 404) return null;
    throw ApiRefusal.from(response.status, body);
  }
  session.me = (body as Person | null) ?? null;
  return session.me;
}

/** Sign out: the node's session, or (OIDC) the token here and the provider's session (the
 *  browser goes to its end-session endpoint, which comes back to /login). */
export async function signOut(): Promise<void> {
  if (authHeaders().Authorization) {
    const endSession = dropToken();
    // leaving for the provider: keep the shell as it is (clearing `me` would re-mount the
    // current page without a token, and its requests would answer 401) until the page unloads
    if (endSession) window.location.assign(endSession);
    else session.me = null;
    return;
  }
  await fetch(SESSION_PATH, {
    method: "DELETE",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...csrfHeaders() },
    body: "{}",
  });
  session.me = null;
  session.csrf = null;
}
