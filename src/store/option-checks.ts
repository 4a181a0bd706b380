import { InvalidOptionError } from './errors.js';

/**
 * The checks every options resolver shares (the store's, the cache's, the backplane's, the session
 * store's): each option is read once, and a wrong value throws an InvalidOptionError naming it.
 */
export function optional<T>(
  options: Record<string, unknown>,
  name: string,
  check: (value: unknown) => boolean,
  expected: string,
  /** The option's full name, for an option nested in another. */
  label = name,
): T | undefined {
  const value = options[name];
  if (value === undefined) return undefined;
  if (check(value)) return value as T;
  throw new InvalidOptionError(label, `must be ${expected}, got ${shown(value)}.`);
}

/** JSON where it can (it spells NaN and Infinity "null", and cannot write a circular object). */
export function shown(value: unknown): string {
  if (typeof value === 'number') return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

export const isBoolean = (value: unknown) => typeof value === 'boolean';
export const isName = (value: unknown) => typeof value === 'string' && value.length > 0 && value.length <= 255;
// setTimeout's limit: a longer delay fires at once.
export const isPositiveDuration = (value: unknown) =>
  typeof value === 'number' && Number.isFinite(value) && value > 0 && value <= 2 ** 31 - 1;
// The latest instant a Date can hold, in ms from the epoch.
export const isDuration = (value: unknown) => typeof value === 'number' && Number.isFinite(value) && value >= 0 && value <= 8.64e15;
export const isObject = (value: unknown) => value !== null && typeof value === 'object' && !Array.isArray(value);
