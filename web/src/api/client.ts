// The node's API, typed from docs/openapi.json (src/api/schema.d.ts, `npm run api`).
// Requests go to the same origin with the session cookie; writes carry the CSRF header. After
// an OIDC sign-in they carry `Authorization: Bearer` instead (api/oidc.ts, decision 035).
import { ApiRefusal, readJson } from "./errors";
import type { components, operations, paths } from "./schema";
import { authHeaders, csrfHeaders, signInAgain } from "./session";

type Schemas = components["schemas"];
export type CaseRow = Schemas["ListedCase"];
export type CaseView = Schemas["CaseView"];
export type TimelineEntry = Schemas["TimelineEntry"];
export type Health = Schemas["Health"];
export type CasePage = Schemas["CasePage"];
export type ListedCase = Schemas["ListedCase"];
export type Stats = Schemas["Stats"];
export type DivisionStats = Schemas["DivisionStats"];
export type AuditStatus = Schemas["AuditStatus"];
export type ListQuery = NonNullable<operations["listCases"]["parameters"]["query"]>;

/** The petitioner as the case view carries it: masked (张*, 139****5678, …) unless revealed
 *  (the pdview contract: GET /api/cases/{id} → petitioner, personal_masked). */
export interface PersonalData {
  name?: string | null;
  address?: string | null;
  contact?: string | null;
  id_number?: string | null;
  anonymous?: boolean;
}
/** POST /api/cases/{id}/personal-data {reason} → the full values; recorded in the trail. */
export interface Revealed {
  case_id: string;
  petitioner: PersonalData;
  reason: string;
  viewed_at: string;
}
/** GET /api/audit/trail (audit administrators; decision 027): entries as signed. */
export interface TrailEntry {
  seq: number;
  at_ms: number;
  person: string;
  roles: string[];
  body: string;
  method: string;
  action: string;
  http: string;
  case_id: string;
  status: number;
  code: string;
  source: string;
}
export interface TrailPage {
  node: string;
  head_seq: number;
  key_id: string | null;
  entries: TrailEntry[];
  next_after: number | null;
}

/** Fields the node's case view has beyond those the OpenAPI document declares yet
 *  (presentation.case_view); optional, so an older node still type-checks. */
export interface Supervision {
  supervision_id: string;
  by: string;
  to_body: string;
  level: string;
  level_zh: string;
  obligation: string;
  obligation_zh: string;
  obligation_en: string;
  answer_due: string;
  answered: boolean;
}
export type CaseDetail = CaseView & {
  category_zh?: string;
  holder_name?: string;
  origin?: string;
  outcome_zh?: string | null;
  handling_body?: string | null;
  provisional_deadlines?: string[];
  supervisions?: Supervision[];
  petitioner?: PersonalData;
  personal_masked?: boolean;
};

/** A registration as the console sends it: the model's fields, without `actor` (the acting
 *  body is the signed-in person's, issue 14). */
export type RegisterRequest = Omit<Schemas["RegisterRequest"], "actor">;

interface EnumProperty {
  enum?: string[];
  anyOf?: { enum?: string[] }[];
}
export interface NodeDocument {
  info: { title: string };
  components: { schemas: Record<string, { properties?: Record<string, EnumProperty> }> };
}

/** The values a node lists for `field` of request schema `schema` ([] when none). */
export function enumOf(doc: NodeDocument, schema: string, field: string): string[] {
  const prop = doc.components.schemas[schema]?.properties?.[field];
  if (!prop) return [];
  return prop.enum ?? prop.anyOf?.find((b) => b.enum)?.enum ?? [];
}

/** The case commands (POST /api/cases/{id}/<command>) and their bodies. */
type CommandPath = Extract<keyof paths, `/api/cases/{case_id}/${string}`>;
export type Command = CommandPath extends `/api/cases/{case_id}/${infer C}`
  ? Exclude<C, "timeline" | "personal-data"> // reads, not acts
  : never;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const write = method !== "GET";
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: write ? { "Content-Type": "application/json", ...csrfHeaders(), ...authHeaders() } : authHeaders(),
    body: write ? JSON.stringify(body ?? {}) : undefined,
  });
  const payload = await readJson(response);
  if (response.status === 401) signInAgain(); // an OIDC token expired (decision 035)
  if (!response.ok) throw ApiRefusal.from(response.status, payload);
  return payload as T;
}

const enc = encodeURIComponent;

/** `?a=1&b=2` of the defined values (none: ""). */
export function queryString(params: Record<string, string | number | boolean | null | undefined>): string {
  const pairs = Object.entries(params).filter(([, v]) => v !== undefined && v !== null && v !== "");
  return pairs.length ? "?" + pairs.map(([k, v]) => `${enc(k)}=${enc(String(v))}`).join("&") : "";
}

export const api = {
  health: () => call<Health>("GET", "/health"),
  /** The node's OpenAPI document: its places and bodies are the enums of place and body
   *  fields (api/openapi.py `for_node`). */
  openapi: () => call<NodeDocument>("GET", "/openapi.json"),
  register: (body: RegisterRequest) => call<Schemas["Registered"]>("POST", "/api/cases", body),
  /** The same matter already known here (R11/R12), asked before 登记 (api/match_routes.py). */
  matches: (body: Schemas["MatchRequest"]) => call<Schemas["Matches"]>("POST", "/api/cases/matches", body),
  /** A place's bodies, suggested as competent at 登记 (api/topology_routes.py). */
  placeBodies: (division: string) =>
    call<Schemas["PlaceBodies"]>("GET", `/api/topology/bodies${queryString({ division })}`),
  /** One page of the cases this person may see, filtered and sorted in the server. */
  listCases: (query: ListQuery = {}) => call<CasePage>("GET", `/api/cases${queryString(query)}`),
  stats: (from: string, to: string) => call<Stats>("GET", `/api/stats${queryString({ from, to })}`),
  /** The .xlsx of the same figures: a plain link (GET with the session cookie). */
  statsXlsxUrl: (from: string, to: string) => `/api/stats.xlsx${queryString({ from, to })}`,
  auditStatus: () => call<AuditStatus>("GET", "/api/audit/status"),
  trail: (query: { person?: string; action?: string; case?: string; after?: number; limit?: number }) =>
    call<TrailPage>("GET", `/api/audit/trail${queryString(query)}`),
  /** Show the petitioner's data, giving a reason (4–200 characters): an operator-trail entry. */
  revealPersonal: (id: string, reason: string) =>
    call<Revealed>("POST", `/api/cases/${enc(id)}/personal-data`, { reason }),
  getCase: (id: string) => call<CaseDetail>("GET", `/api/cases/${enc(id)}`),
  timeline: (id: string) => call<Schemas["Timeline"]>("GET", `/api/cases/${enc(id)}/timeline`),
  /** An act on a case. The acting body is the signed-in person's (issue 14): never sent. */
  act: (id: string, command: Command, body: Record<string, unknown>) =>
    call<Schemas["Recorded"]>("POST", `/api/cases/${enc(id)}/${command}`, body),
};
