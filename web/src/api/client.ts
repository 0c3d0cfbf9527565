// The node's API, typed from docs/openapi.json (src/api/schema.d.ts, `npm run api`).
// Requests go to the same origin with the session cookie; writes carry the CSRF header.
import { ApiRefusal, readJson } from "./errors";
import type { components, paths } from "./schema";
import { csrfHeaders } from "./session";

type Schemas = components["schemas"];
export type CaseRow = Schemas["CaseRow"];
export type CaseView = Schemas["CaseView"];
export type TimelineEntry = Schemas["TimelineEntry"];
export type Health = Schemas["Health"];

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
  ? Exclude<C, "timeline">
  : never;

async function call<T>(method: string, path: string, body?: unknown): Promise<T> {
  const write = method !== "GET";
  const response = await fetch(path, {
    method,
    credentials: "same-origin",
    headers: write ? { "Content-Type": "application/json", ...csrfHeaders() } : {},
    body: write ? JSON.stringify(body ?? {}) : undefined,
  });
  const payload = await readJson(response);
  if (!response.ok) throw ApiRefusal.from(response.status, payload);
  return payload as T;
}

const enc = encodeURIComponent;

export const api = {
  health: () => call<Health>("GET", "/health"),
  /** The node's OpenAPI document: its places and bodies are the enums of place and body
   *  fields (api/openapi.py `for_node`). */
  openapi: () => call<NodeDocument>("GET", "/openapi.json"),
  register: (body: RegisterRequest) => call<Schemas["Registered"]>("POST", "/api/cases", body),
  listCases: () => call<Schemas["CaseList"]>("GET", "/api/cases"),
  getCase: (id: string) => call<CaseDetail>("GET", `/api/cases/${enc(id)}`),
  timeline: (id: string) => call<Schemas["Timeline"]>("GET", `/api/cases/${enc(id)}/timeline`),
  /** An act on a case. The acting body is the signed-in person's (issue 14): never sent. */
  act: (id: string, command: Command, body: Record<string, unknown>) =>
    call<Schemas["Recorded"]>("POST", `/api/cases/${enc(id)}/${command}`, body),
};
