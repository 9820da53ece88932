/** Reading fields of a JSON request body; every failure is a 400 naming the field. */
import { invalidArgument } from "./errors";
import { isUidp } from "../uidp";

type Body = Record<string, unknown>;

/** A string field; undefined when absent, 400 when present with another type. */
export function optionalString(body: Body, field: string, label = field): string | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw invalidArgument(`${label} must be a string`);
  return value;
}

/** A non-empty string field; `label` names it in messages (e.g. "static.subject"). */
export function requiredString(body: Body, field: string, label = field): string {
  const value = optionalString(body, field, label);
  if (value === undefined || value === "") throw invalidArgument(`${label} is required`);
  return value;
}

/** A UIDP field; undefined when absent or empty, 400 when it is not a UIDP. */
export function optionalUidp(body: Body, field: string): string | undefined {
  const value = optionalString(body, field) || undefined;
  if (value !== undefined && !isUidp(value)) {
    throw invalidArgument(`${field} ${JSON.stringify(value)} is not a UIDP`);
  }
  return value;
}

/** A required UIDP field: 400 when absent or not a UIDP. */
export function requiredUidp(body: Body, field: string): string {
  const value = optionalUidp(body, field);
  if (value === undefined) throw invalidArgument(`${field} is required`);
  return value;
}

/** A boolean field; undefined when absent. */
export function optionalBoolean(body: Body, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "boolean") throw invalidArgument(`${field} must be true or false`);
  return value;
}

/** An object field; undefined when absent. */
export function optionalObject(body: Body, field: string): Body | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw invalidArgument(`${field} must be an object`);
  }
  return value as Body;
}

/** An array-of-strings field; undefined when absent. */
export function optionalStringArray(body: Body, field: string): string[] | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (!Array.isArray(value) || value.some((v) => typeof v !== "string")) {
    throw invalidArgument(`${field} must be an array of strings`);
  }
  return value as string[];
}

/** A query parameter; an empty value counts as absent. */
export function queryParam(query: URLSearchParams, name: string): string | undefined {
  const value = query.get(name);
  return value === null || value === "" ? undefined : value;
}
