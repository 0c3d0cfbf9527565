// The acts on a case as forms: which acts a case's status allows, which roles may do each
// (DOMAIN.md §10, identity/policy.py), and each form's fields (api/models.py bodies).
// The node decides; this only keeps the page from offering what cannot apply.
import type { Command } from "../api/client";

export type FieldKind = "text" | "textarea" | "number" | "bool" | "select";
export interface Field {
  name: string;
  kind: FieldKind;
  required?: boolean;
  options?: string[];
  initial?: string | number | boolean;
}
export interface Act {
  command: Command;
  roles: string[];
  fields: Field[];
}

const OUTCOME = ["SUPPORTED", "EXPLAINED", "NOT_SUPPORTED", "MEDIATED"];
const RESULT = ["UPHOLD", "REVOKE", "VARY"];
const RATING = ["SATISFIED", "BASICALLY_SATISFIED", "DISSATISFIED"];

export const ACTS: Record<Command, Act> = {
  transfer: { command: "transfer", roles: ["registrar"], fields: [{ name: "to_body", kind: "text", required: true }, { name: "note", kind: "textarea" }] },
  assign: { command: "assign", roles: ["registrar"], fields: [{ name: "to_body", kind: "text", required: true }, { name: "report_within_days", kind: "number", initial: 30 }, { name: "note", kind: "textarea" }] },
  divert: { command: "divert", roles: ["registrar"], fields: [{ name: "route", kind: "select", required: true, options: ["POLITICAL_LEGAL", "DISCIPLINE", "LITIGATION", "PROCURATORATE", "POLICE", "ARBITRATION", "ADMIN_RECONSIDERATION", "OTHER_STATUTORY"] }, { name: "guidance", kind: "textarea", required: true }, { name: "to_body", kind: "text" }] },
  object: { command: "object", roles: ["handler"], fields: [{ name: "reasons", kind: "textarea", required: true }] },
  return: { command: "return", roles: ["registrar"], fields: [{ name: "note", kind: "textarea" }] },
  accept: { command: "accept", roles: ["handler"], fields: [{ name: "simplified", kind: "bool", initial: false }] },
  reject: { command: "reject", roles: ["handler"], fields: [{ name: "reasons", kind: "textarea", required: true }] },
  extend: { command: "extend", roles: ["approver"], fields: [{ name: "days", kind: "number", required: true, initial: 30 }, { name: "approved_by", kind: "text", required: true }, { name: "reasons", kind: "textarea", required: true }] },
  opinion: { command: "opinion", roles: ["handler"], fields: [{ name: "outcome", kind: "select", required: true, options: OUTCOME }, { name: "opinion", kind: "textarea", required: true }, { name: "legal_basis", kind: "text" }] },
  serve: { command: "serve", roles: ["handler"], fields: [{ name: "kind", kind: "select", required: true, options: ["ACCEPTANCE", "NON_ACCEPTANCE", "HANDLING_OPINION", "EXTENSION", "DIVERSION", "REVIEW_OPINION", "RE_REVIEW_OPINION", "OTHER"] }] },
  complete: { command: "complete", roles: ["handler"], fields: [{ name: "summary", kind: "textarea", required: true }] },
  "review-request": { command: "review-request", roles: ["handler"], fields: [{ name: "reasons", kind: "textarea", required: true }] },
  "review-decide": { command: "review-decide", roles: ["approver"], fields: [{ name: "result", kind: "select", required: true, options: RESULT }, { name: "opinion", kind: "textarea", required: true }, { name: "rehandle_within_days", kind: "number", initial: 30 }] },
  "re-review-request": { command: "re-review-request", roles: ["handler"], fields: [{ name: "reasons", kind: "textarea", required: true }] },
  "re-review-decide": { command: "re-review-decide", roles: ["approver"], fields: [{ name: "result", kind: "select", required: true, options: RESULT }, { name: "opinion", kind: "textarea", required: true }] },
  close: { command: "close", roles: ["handler"], fields: [{ name: "reason", kind: "select", required: true, options: ["RE_REVIEW_SERVED", "WINDOW_LAPSED", "MEDIATION_FULFILLED", "PETITIONER_DECEASED", "DIVERTED", "NOT_ACCEPTED", "PROPOSAL_ANSWERED"] }, { name: "note", kind: "textarea" }] },
  supervise: { command: "supervise", roles: ["supervisor"], fields: [{ name: "to_body", kind: "text", required: true }, { name: "reasons", kind: "textarea", required: true }, { name: "level", kind: "select", options: ["REMINDER", "SUPERVISION", "LISTED"] }] },
  "answer-supervision": { command: "answer-supervision", roles: ["handler"], fields: [{ name: "supervision_id", kind: "text", required: true }, { name: "answer", kind: "textarea", required: true }, { name: "adopted", kind: "bool", initial: false }] },
  evaluate: { command: "evaluate", roles: ["handler", "registrar"], fields: [{ name: "handling_rating", kind: "select", required: true, options: RATING }, { name: "office_rating", kind: "select", required: true, options: RATING }, { name: "comment", kind: "textarea" }] },
};

const BY_STATUS: Record<string, Command[]> = {
  REGISTERED: ["transfer", "assign", "divert", "supervise"],
  TRANSFERRED: ["accept", "reject", "object", "supervise"],
  ASSIGNED: ["accept", "reject", "object", "supervise"],
  OBJECTED: ["return", "transfer", "assign"],
  ACCEPTED: ["opinion", "extend", "complete", "answer-supervision", "supervise"],
  OPINION_ISSUED: ["serve", "complete", "review-request", "evaluate", "close", "answer-supervision", "supervise"],
  REVIEW_REQUESTED: ["review-decide", "answer-supervision", "supervise"],
  REVIEW_DECIDED: ["serve", "re-review-request", "close", "supervise"],
  RE_REVIEW_REQUESTED: ["re-review-decide", "supervise"],
  DIVERTED: ["close"],
};

/** The acts to offer on a case in `status` to a person with `roles` (all roles when the node
 *  does not say: before sign-in existed). */
export function actsFor(status: string, final: boolean, roles: string[] | undefined): Act[] {
  if (final) return [];
  return (BY_STATUS[status] ?? [])
    .map((c) => ACTS[c])
    .filter((a) => !roles || roles.length === 0 || a.roles.some((r) => roles.includes(r)));
}
