// The cases this person may see, each with its case view (GET /api/cases lists ids and
// statuses only; the views come in parallel, a few at a time). TODO(issue 16): one paginated
// server-side list with holder, title and next deadline, once the list route carries them.
import { api, type CaseDetail } from "../api/client";

const PARALLEL = 6;

export async function loadCases(): Promise<CaseDetail[]> {
  const { cases } = await api.listCases();
  const out: CaseDetail[] = new Array(cases.length);
  let next = 0;
  async function worker(): Promise<void> {
    while (next < cases.length) {
      const i = next++;
      out[i] = await api.getCase(cases[i].case_id);
    }
  }
  await Promise.all(Array.from({ length: Math.min(PARALLEL, cases.length) }, worker));
  return out;
}
