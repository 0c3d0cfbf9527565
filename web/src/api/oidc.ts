// 统一身份认证登录 (issue 16 item 2, decisions 026 and 035): the authorization code flow with
// PKCE (RFC 7636, S256) as the node's public client, in the browser.
//   GET /api/session/oidc → {configured, issuer, client_id, scope}; configured false: none
//   the provider's discovery document (OIDC Discovery §4) → authorization/token/end-session
//   endpoints; its `issuer` must be the one the node named (§4.3)
//   /login/callback?code&state → the code exchanged at the token endpoint (CORS; the realm
//   lists the console's origin), the access token kept in this tab's sessionStorage and sent
//   to the node as `Authorization: Bearer` (no cookie, so no CSRF token either)
// On expiry the token is dropped and the person signs in again (the provider's own session
// usually makes that one click). No refresh token is kept in the page.

const PENDING = "xf_oidc_pending"; // {state, verifier, …} between the redirect and the callback
const TOKEN = "xf_oidc_token";
export const CALLBACK_PATH = "/login/callback";

export interface OidcConfig {
  issuer: string;
  client_id: string;
  scope: string;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

interface Pending {
  state: string;
  verifier: string;
  next: string;
  client_id: string;
  token_endpoint: string;
  end_session_endpoint?: string;
}

interface Stored {
  access_token: string;
  id_token?: string;
  expires_at: number; // ms since the epoch
  client_id: string;
  end_session_endpoint?: string;
}

/** A failed sign-in at the provider or in the exchange (shown with the code `XF-OIDC-…`). */
export class OidcFailed extends Error {
  constructor(readonly code: string, readonly messageZh: string, readonly messageEn: string) {
    super(`${code}: ${messageEn}`);
  }
}

function base64url(bytes: Uint8Array): string {
  let text = "";
  for (const b of bytes) text += String.fromCharCode(b);
  return btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function random(bytes = 32): string {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

async function challenge(verifier: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(new Uint8Array(digest));
}

function redirectUri(): string {
  return `${window.location.origin}${CALLBACK_PATH}`;
}

/** The node's provider, or null when it has none or cannot be asked. */
export async function oidcConfig(): Promise<OidcConfig | null> {
  try {
    const response = await fetch("/api/session/oidc", { credentials: "same-origin" });
    if (!response.ok) return null;
    const found = (await response.json()) as OidcConfig & { configured: boolean };
    return found.configured ? found : null;
  } catch {
    return null;
  }
}

async function discover(issuer: string): Promise<Discovery> {
  const response = await fetch(`${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`);
  const doc = response.ok ? ((await response.json()) as Discovery) : null;
  if (!doc || doc.issuer !== issuer) {
    throw new OidcFailed("XF-OIDC-UNAVAILABLE", "无法读取统一身份认证的配置", "The identity provider's configuration cannot be read");
  }
  return doc;
}

/** Go to the provider's sign-in page; `next` is where to land afterwards (a console path). */
export async function startSignIn(config: OidcConfig, next: string): Promise<void> {
  const doc = await discover(config.issuer);
  const pending: Pending = {
    state: random(),
    verifier: random(48), // 64 characters of [A-Za-z0-9_-] (RFC 7636 §4.1: 43–128)
    next,
    client_id: config.client_id,
    token_endpoint: doc.token_endpoint,
    end_session_endpoint: doc.end_session_endpoint,
  };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(doc.authorization_endpoint);
  const params = {
    response_type: "code",
    client_id: config.client_id,
    redirect_uri: redirectUri(),
    scope: config.scope,
    state: pending.state,
    code_challenge: await challenge(pending.verifier),
    code_challenge_method: "S256",
  };
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value);
  window.location.assign(url.toString());
}

/** Complete the sign-in from the callback's query; returns the path to land on. Throws
 *  OidcFailed (state mismatch, the provider's error, a refused exchange). */
export async function finishSignIn(query: URLSearchParams): Promise<string> {
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING); // one use, whatever happens
  const pending = raw ? (JSON.parse(raw) as Pending) : null;
  if (!pending || query.get("state") !== pending.state) {
    throw new OidcFailed("XF-OIDC-STATE", "登录请求已失效，请重新登录", "The sign-in request is stale or forged; sign in again");
  }
  const error = query.get("error");
  const code = query.get("code");
  if (error || !code) {
    throw new OidcFailed("XF-OIDC-DENIED", `统一身份认证未完成登录：${error ?? "无授权码"}`, `The identity provider did not sign you in: ${error ?? "no code"}`);
  }
  const response = await fetch(pending.token_endpoint, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri(),
      client_id: pending.client_id,
      code_verifier: pending.verifier,
    }),
  });
  const tokens = response.ok ? ((await response.json()) as Record<string, unknown>) : null;
  if (!tokens || typeof tokens.access_token !== "string") {
    throw new OidcFailed("XF-OIDC-EXCHANGE", "授权码换取令牌失败，请重新登录", "The code could not be exchanged for a token; sign in again");
  }
  const stored: Stored = {
    access_token: tokens.access_token,
    id_token: typeof tokens.id_token === "string" ? tokens.id_token : undefined,
    expires_at: Date.now() + 1000 * (Number(tokens.expires_in) || 60),
    client_id: pending.client_id,
    end_session_endpoint: pending.end_session_endpoint,
  };
  sessionStorage.setItem(TOKEN, JSON.stringify(stored));
  return pending.next.startsWith("/") && !pending.next.startsWith("//") ? pending.next : "/workbench";
}

function stored(): Stored | null {
  const raw = sessionStorage.getItem(TOKEN);
  return raw ? (JSON.parse(raw) as Stored) : null;
}

/** The access token to send, or null (none, or expired: then it is dropped). */
export function accessToken(): string | null {
  const token = stored();
  if (!token) return null;
  if (Date.now() >= token.expires_at) {
    sessionStorage.removeItem(TOKEN);
    return null;
  }
  return token.access_token;
}

/** Forget the token; returns the provider's end-session URL (RP-initiated logout, back to
 *  /login) when there was one, so the provider's session ends too. */
export function dropToken(): string | null {
  const token = stored();
  sessionStorage.removeItem(TOKEN);
  if (!token?.end_session_endpoint) return null;
  const url = new URL(token.end_session_endpoint);
  url.searchParams.set("client_id", token.client_id);
  url.searchParams.set("post_logout_redirect_uri", `${window.location.origin}/login`);
  if (token.id_token) url.searchParams.set("id_token_hint", token.id_token);
  return url.toString();
}
