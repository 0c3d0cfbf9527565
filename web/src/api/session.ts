// Sign-in, kept in this one module (issue 14, helper A's contract; decision 029):
//   POST   /api/session {person, password, totp} → the person; sets the HttpOnly session cookie
//          and the readable `xf_csrf` cookie (the CSRF token may also come in the body: `csrf`)
//   GET    /api/session → the signed-in person (401 XF-AUTH-REQUIRED when not signed in)
//   DELETE /api/session → signs out
// Every state-changing request then sends `X-CSRF-Token` (csrfHeaders below). If the contract
// moves, only this file changes.
import { reactive } from "vue";
import { ApiRefusal, readJson } from "./errors";

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
  const token = session.csrf ?? cookie(CSRF_COOKIE);
  return token ? { [CSRF_HEADER]: token } : {};
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
  const answer = body as Partial<Person> & { csrf?: string; principal?: Person };
  session.csrf = answer.csrf ?? cookie(CSRF_COOKIE);
  session.me = answer.principal ?? (answer.body ? (answer as Person) : await whoAmI());
  session.checked = true;
  return session.me as Person;
}

/** The signed-in person, or null (not signed in, or the session ended). Without the CSRF
 *  cookie there is no session to ask about: no request (and no 401 in the browser's console). */
export async function whoAmI(): Promise<Person | null> {
  if (!session.me && !cookie(CSRF_COOKIE)) {
    session.checked = true;
    return null;
  }
  const response = await fetch(SESSION_PATH, { credentials: "same-origin" });
  const body = await readJson(response);
  session.checked = true;
  if (!response.ok) {
    session.me = null;
    if (response.status === 401 || response.status === 404) return null;
    throw ApiRefusal.from(response.status, body);
  }
  session.me = (body as Person | null) ?? null;
  session.csrf = session.csrf ?? cookie(CSRF_COOKIE);
  return session.me;
}

export async function signOut(): Promise<void> {
  await fetch(SESSION_PATH, {
    method: "DELETE",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", ...csrfHeaders() },
    body: "{}",
  });
  session.me = null;
  session.csrf = null;
}
