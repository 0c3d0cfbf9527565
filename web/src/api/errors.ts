// A refusal of the node's API: its stable code (XF-…) and Chinese and English messages.
import type { components } from "./schema";

export type ErrorBody = components["schemas"]["Error"];

export class ApiRefusal extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly messageZh: string,
    readonly messageEn: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(`${code}: ${messageEn}`);
  }

  static from(status: number, body: unknown): ApiRefusal {
    const e = (body ?? {}) as Partial<ErrorBody>;
    return new ApiRefusal(
      status,
      e.code ?? `HTTP-${status}`,
      e.message_zh ?? "请求失败",
      e.message_en ?? "Request failed",
      (e.context as Record<string, unknown>) ?? {},
    );
  }
}

export async function readJson(response: Response): Promise<unknown> {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { code: `HTTP-${response.status}`, message_zh: text.slice(0, 200), message_en: text.slice(0, 200) };
  }
}
