// Checks as the registrar types (DOMAIN.md §2, §10); the node checks again and decides.

/** A mainland mobile number: 11 digits beginning with 1 (DOMAIN.md §10). */
export const MOBILE = /^1\d{10}$/;
/** A landline with area code, e.g. 0476-8888888 or 04768888888. */
export const LANDLINE = /^0\d{2,3}-?\d{7,8}$/;

export function contactLooksValid(value: string): boolean {
  const v = value.replace(/\s/g, "");
  return v === "" || MOBILE.test(v) || LANDLINE.test(v) || v.includes("@");
}

/** R14: at most 5 representatives of a collective visit (provinces may say fewer). */
export const MAX_REPRESENTATIVES = 5;

// 公民身份号码, GB 11643-1999: the rules of services/xinfang/domain/personal/id_number.py
// (the node checks again and decides; this only tells the registrar early).
/** GB/T 2260 province-level codes (incl. 71 台湾, 81 香港, 82 澳门). */
export const PROVINCES = new Set([
  "11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36",
  "37", "41", "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62",
  "63", "64", "65", "71", "81", "82",
]);
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = "10X98765432"; // check character for (sum of weighted digits) mod 11

/** ISO 7064 MOD 11-2 check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  let total = 0;
  for (let i = 0; i < 17; i++) total += Number(first17[i]) * WEIGHTS[i];
  return CHECK[total % 11];
}

export type IdNumberProblem = "length" | "characters" | "check-digit" | "division" | "birth-date";

/** What is wrong with `raw` as a 公民身份号码 (null: valid; "" is not checked here — the
 *  field is optional). Same order and reasons as the node's parse_id_number. */
export function idNumberProblem(raw: string, today: Date = new Date()): IdNumberProblem | null {
  const v = raw.trim().toUpperCase();
  if (v.length !== 18) return "length";
  if (!/^\d{17}[\dX]$/.test(v)) return "characters";
  if (checkCharacter(v.slice(0, 17)) !== v[17]) return "check-digit";
  if (!PROVINCES.has(v.slice(0, 2))) return "division";
  const [y, m, d] = [Number(v.slice(6, 10)), Number(v.slice(10, 12)), Number(v.slice(12, 14))];
  const birth = new Date(Date.UTC(y, m - 1, d));
  const real = birth.getUTCFullYear() === y && birth.getUTCMonth() === m - 1 && birth.getUTCDate() === d;
  const todayUtc = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  if (!real || y < 1900 || birth.getTime() > todayUtc) return "birth-date";
  return null;
}
