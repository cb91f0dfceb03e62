import type { z } from 'zod';
import type { Config, mlflowTypeSchema, signatureSchema } from './config/index.js';

/**
 * Columns of the `<endpoint>_unpacked` table: fixed columns, then one typed column per
 * feature, taken from the endpoint's declared signature or inferred from the data.
 */

/** SQL column types of unpacked values; the same names in Athena (Trino) and DuckDB. */
export type ColumnType = 'BOOLEAN' | 'BIGINT' | 'DOUBLE' | 'VARCHAR';

/** A feature column: the feature's name as sent, its column name and type. */
export interface FeatureColumn {
  readonly feature: string;
  readonly column: string;
  readonly type: ColumnType;
}

type MlflowType = z.infer<typeof mlflowTypeSchema>;
/** A model version's signature. */
export type Signature = z.infer<typeof signatureSchema>;

const FROM_MLFLOW: Readonly<Record<MlflowType, ColumnType>> = {
  double: 'DOUBLE',
  float: 'DOUBLE',
  long: 'BIGINT',
  integer: 'BIGINT',
  boolean: 'BOOLEAN',
  string: 'VARCHAR',
  // Kept as sent: base64 text and ISO-8601 text.
  binary: 'VARCHAR',
  datetime: 'VARCHAR',
};

/** The SQL type of an MLflow signature type. */
export function columnTypeOf(type: MlflowType): ColumnType {
  return FROM_MLFLOW[type];
}

/** Fixed columns of the unpacked table, in order, with their SQL types. */
export const FIXED_COLUMNS = [
  ['request_id', 'VARCHAR'],
  ['client_request_id', 'VARCHAR'],
  ['row_index', 'INTEGER'],
  ['timestamp', 'TIMESTAMP'],
  ['date', 'DATE'],
  ['model_name', 'VARCHAR'],
  ['model_version', 'VARCHAR'],
  ['model_id', 'VARCHAR'],
] as const;

/** Columns after the features: the model's answer, its label and bookkeeping. */
export const OUTCOME_COLUMNS = ['prediction', 'probabilities', 'label', 'labeled_at', 'unpacked_at'] as const;

// `timestamp_ms` is a key of the staged rows the table's timestamp is computed from.
const RESERVED = new Set<string>([...FIXED_COLUMNS.map(([c]) => c), ...OUTCOME_COLUMNS, 'timestamp_ms']);

/**
 * The column a feature is stored in: lowercase letters, digits and `_` (Glue's rule for column
 * names), prefixed with `f_` when it would start with a digit or take a fixed column's name.
 */
export function featureColumnName(feature: string): string {
  const cleaned = feature
    .toLowerCase()
    .replace(/[^a-z0-9_]+/g, '_')
    .replace(/^_+|_+$/g, '');
  const base = cleaned === '' ? 'feature' : cleaned;
  return /^[0-9]/.test(base) || RESERVED.has(base) ? `f_${base}` : base;
}

/** The type a JSON value would be stored as; null for null (it fits any column). */
export function valueType(value: unknown): ColumnType | null {
  if (value === null || value === undefined) return null;
  if (typeof value === 'boolean') return 'BOOLEAN';
  if (typeof value === 'number') return Number.isInteger(value) ? 'BIGINT' : 'DOUBLE';
  return 'VARCHAR';
}

/** The narrowest type holding values of both types. */
export function widen(a: ColumnType | null, b: ColumnType | null): ColumnType | null {
  if (a === null) return b;
  if (b === null || a === b) return a;
  if ((a === 'BIGINT' && b === 'DOUBLE') || (a === 'DOUBLE' && b === 'BIGINT')) return 'DOUBLE';
  return 'VARCHAR';
}

/** True when a value can be stored in a column of the declared type without a lossy cast. */
export function fits(value: unknown, declared: ColumnType): boolean {
  const actual = valueType(value);
  if (actual === null || actual === declared) return true;
  return declared === 'DOUBLE' && actual === 'BIGINT';
}

/**
 * The value as stored: objects and lists become JSON text, and text is made well-formed (a lone
 * surrogate, valid in a JSON escape, has no UTF-8 form: it would make the staged rows unreadable).
 */
export function storedValue(value: unknown): unknown {
  if (value === undefined) return null;
  if (typeof value === 'string') return value.toWellFormed();
  return typeof value === 'object' && value !== null ? JSON.stringify(value) : value;
}

/**
 * The signature that types an endpoint's features: the first served model version (or the
 * registered model's first version, for the classic route) that declares one.
 */
export function declaredSignature(config: Config, endpoint: string): Signature | undefined {
  const models = new Map(config.models.map((m) => [m.name, m]));
  const served = config.endpoints.find((e) => e.name === endpoint)?.served_entities ?? [];
  for (const entity of served) {
    const version = models.get(entity.entity_name)?.versions.find((v) => v.version === entity.entity_version);
    if (version?.signature) return version.signature;
  }
  return models.get(endpoint)?.versions.find((v) => v.signature)?.signature;
}

/** Feature columns declared by a signature. */
export function declaredColumns(signature: Signature): FeatureColumn[] {
  return signature.inputs.map((i) => ({ feature: i.name, column: featureColumnName(i.name), type: columnTypeOf(i.type) }));
}

/**
 * Merges column sets: the existing table's columns keep their type and order; new features are
 * appended with the widest type seen. Two features mapping to one column name keep the first.
 */
export function mergeColumns(existing: readonly FeatureColumn[], observed: Readonly<Record<string, ColumnType>>): FeatureColumn[] {
  const out = [...existing];
  const taken = new Set(existing.map((c) => c.column));
  const known = new Set(existing.map((c) => c.feature));
  for (const [feature, type] of Object.entries(observed).sort(([a], [b]) => a.localeCompare(b))) {
    if (known.has(feature)) continue;
    const column = featureColumnName(feature);
    if (taken.has(column)) continue;
    out.push({ feature, column, type });
    taken.add(column);
  }
  return out;
}
