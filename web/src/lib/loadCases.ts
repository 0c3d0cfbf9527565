// The cases this person may see (the first 1,000), each with its case view, a few at a time:
// for the supervision board. The workbench pages the list in the server (decision 034).
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
