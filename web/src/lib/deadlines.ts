// Which deadline a case is waiting on, with its rule (DOMAIN.md §9), and how near it is.
import type { CaseDetail } from "../api/client";

export interface Deadline {
  due: string; // ISO 8601
  rule: string; // R1, R3, R5, R16
  basis: string; // the article of the Regulations (信访工作条例)
  key: string; // i18n key of what is due
  provisional: boolean; // counted into a year without an official holiday schedule (§11)
}

export type Urgency = "overdue" | "soon" | "ok" | "none";

/** Two days before a deadline it is "due soon" (colour only; the rules decide nothing here). */
export const SOON_MS = 2 * 24 * 3600 * 1000;

type DueField = "route_due" | "acceptance_due" | "handling_due";
const BY_STATUS: Record<string, [DueField, string, string, string] | undefined> = {
  REGISTERED: ["route_due", "R1", "条例第二十二条 / Art. 22", "due.route"],
  OBJECTED: ["route_due", "R1", "条例第二十二条 / Art. 22", "due.route"],
  TRANSFERRED: ["acceptance_due", "R3", "条例第二十三条 / Art. 23", "due.acceptance"],
  ASSIGNED: ["acceptance_due", "R3", "条例第二十三条 / Art. 23", "due.acceptance"],
  ACCEPTED: ["handling_due", "R5", "条例第三十四条 / Art. 34", "due.handling"],
};

/** Every deadline running on the case now, nearest first; supervisions only those to `body`
 *  (all of them when `body` is undefined). */
export function deadlines(c: CaseDetail, body?: string): Deadline[] {
  const out: Deadline[] = [];
  const provisional = new Set(c.provisional_deadlines ?? []);
  const step = BY_STATUS[c.status];
  if (step && !c.final) {
    const due = c[step[0]];
    if (due) {
      out.push({ due, rule: step[1], basis: step[2], key: step[3], provisional: provisional.has(step[0]) });
    }
  }
  for (const s of c.supervisions ?? []) {
    if (!s.answered && (body === undefined || s.to_body === body)) {
      out.push({ due: s.answer_due, rule: "R16", basis: "条例第四十条 / Art. 40", key: "due.supervision", provisional: false });
    }
  }
  return out.sort((a, b) => Date.parse(a.due) - Date.parse(b.due));
}

export function urgency(due: string | undefined, now: number = Date.now()): Urgency {
  if (!due) return "none";
  const left = Date.parse(due) - now;
  if (left < 0) return "overdue";
  if (left < SOON_MS) return "soon";
  return "ok";
}

/** Beijing time, as staff read it: 2026-02-13 17:00. */
export function beijing(iso: string | null | undefined): string {
  if (!iso) return "—";
  const parts = new Intl.DateTimeFormat("zh-CN", {
    timeZone: "Asia/Shanghai",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    hour12: false,
  }).formatToParts(new Date(iso));
  const p = Object.fromEntries(parts.map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}`;
}
