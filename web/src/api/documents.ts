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

/** A link the browser follows by itself carries no bearer token: after an OIDC sign-in
 *  (decision 035) fetch it with the token and hand the answer over as a blob — a download
 *  (`filename`) or a new tab. With a cookie session (no token) the link is followed as it is.
 *  Returns true if it took the click over. */
export function followWithToken(event: MouseEvent | null, url: string, filename?: string): boolean {
  const headers = authHeaders();
  if (!headers.Authorization) return false;
  event?.preventDefault();
  // a tab opened now, before the fetch, is not taken for a pop-up
  const tab = filename === undefined ? window.open("", "_blank") : null;
  void (async () => {
    const response = await fetch(url, { credentials: "same-origin", headers });
    if (!response.ok) {
      tab?.close();
      throw ApiRefusal.from(response.status, await readJson(response));
    }
    const blobUrl = URL.createObjectURL(await response.blob());
    if (filename !== undefined) {
      const a = document.createElement("a");
      a.href = blobUrl;
      a.download = nameFrom(response.headers.get("Content-Disposition")) ?? filename;
      a.click();
    } else if (tab) {
      tab.opener = null;
      tab.location.href = blobUrl;
    }
    window.setTimeout(() => URL.revokeObjectURL(blobUrl), 60_000);
  })();
  return true;
}

/** The file name of a download link: its last path segment. */
export function fileNameOf(url: string): string {
  return decodeURIComponent(new URL(url, window.location.href).pathname.split("/").pop() ?? "download");
}

/** The file name a Content-Disposition header gives (RFC 6266; filename* first), or null. */
function nameFrom(disposition: string | null): string | null {
  if (!disposition) return null;
  const star = /filename\*\s*=\s*UTF-8''([^;]+)/i.exec(disposition);
  if (star) return decodeURIComponent(star[1]);
  const plain = /filename\s*=\s*"?([^";]+)"?/i.exec(disposition);
  return plain ? plain[1] : null;
}
