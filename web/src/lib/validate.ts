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
