/**
 * Reading grpc-gateway JSON bodies field by field. grpc-gateway omits zero
 * values (empty strings, false, empty lists) unless told otherwise, so absent
 * fields get their zero value; a present field of the wrong type, or a missing
 * identifying field, is reported through `fail`, which never sees the body.
 * @module
 */

/** Reports a problem with the body; throws. */
export type Fail = (problem: string) => never;
/** A decoded JSON object. */
export type Json = Record<string, unknown>;

export function object(value: unknown, where: string, fail: Fail): Json {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail(`${where} is not a JSON object`);
  }
  return value as Json;
}

/** A string field; `required` ones must be present and non-empty. */
export function str(o: Json, key: string, where: string, fail: Fail, required = false): string {
  const value = o[key];
  if (value === undefined || value === null) {
    return required ? fail(`${where}.${key} is missing`) : "";
  }
  if (typeof value !== "string") return fail(`${where}.${key} is not a string`);
  if (required && value === "") return fail(`${where}.${key} is empty`);
  return value;
}

export function bool(o: Json, key: string, where: string, fail: Fail): boolean {
  const value = o[key] ?? false;
  return typeof value === "boolean" ? value : fail(`${where}.${key} is not a boolean`);
}

// grpc-gateway writes 64-bit integers as strings.
export function int(o: Json, key: string, where: string, fail: Fail): number {
  const value = o[key] ?? 0;
  const n = typeof value === "string" && /^-?\d+$/.test(value) ? Number(value) : value;
  return typeof n === "number" && Number.isInteger(n)
    ? n
    : fail(`${where}.${key} is not an integer`);
}

export function strings(o: Json, key: string, where: string, fail: Fail): string[] {
  const value = o[key] ?? [];
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    return fail(`${where}.${key} is not a list of strings`);
  }
  return value as string[];
}

/** `{"items":[...]}` with each item decoded; an absent list is empty. */
export function decodeItems<T>(
  json: unknown,
  fail: Fail,
  one: (value: unknown, where: string, fail: Fail) => T,
): T[] {
  const items = object(json, "body", fail).items ?? [];
  if (!Array.isArray(items)) return fail("body.items is not a list");
  return items.map((item, i) => one(item, `items[${i}]`, fail));
}

/** An empty answer (`{}`) of a delete. */
export function decodeEmpty(json: unknown, fail: Fail): void {
  object(json, "body", fail);
}
