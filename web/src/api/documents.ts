// The statutory documents of a case (issue 16 item 3, decision 033):
// GET /api/cases/{id}/documents lists the kinds the case has the act for now; each entry's
// `html` opens the A4 document, its `pdf` downloads it. Typed by hand: the routes join
// docs/openapi.json when the lead regenerates it.
import { ApiRefusal, readJson } from "./errors";
import { authHeaders } from "./session";

export interface DocumentEntry {
  kind: string;
  title_zh: string;
  title_en: string;
  number: string;
  issued_on: string;
  issuer: string;
  html: string;
  pdf: string;
}

export interface DocumentList {
  case_id: string;
  documents: DocumentEntry[];
}

export async function listDocuments(caseId: string): Promise<DocumentEntry[]> {
  const response = await fetch(`/api/cases/${encodeURIComponent(caseId)}/documents`, {
    credentials: "same-origin",
    headers: authHeaders(), // an OIDC sign-in's bearer token (decision 035)
  });
  const payload = await readJson(response);
  if (!response.ok) throw ApiRefusal.from(response.status, payload);
  return (payload as DocumentList).documents;
}
