import { bodyFormat, keyedFormat } from './input-formats.js';
import type { ScoringRequest } from './protocol.js';

/**
 * The rows of a scoring request, whatever its input format: named columns (data frames,
 * columnar `inputs`, row `instances` of objects, CSV with a header) or an unnamed tensor.
 */
export interface Frame {
  /** Column names, or null for a tensor without names. */
  readonly columns: readonly string[] | null;
  /** One array of cell values per row. */
  readonly rows: readonly (readonly unknown[])[];
}

/**
 * Turns a protocol-valid request into a frame with the conversion of its input format (see
 * `input-formats.ts`). Unified LLM input has no rows before the model answers: an empty frame.
 * @throws InvalidRequestError for CSV that cannot be parsed
 */
export function toFrame(request: ScoringRequest): Frame {
  if (request.kind === 'csv') return bodyFormat(request.format).toFrame(request.forwardBody);
  const convert = keyedFormat(request.format).toFrame;
  return convert === null ? { columns: null, rows: [] } : convert(request.json[request.format]);
}
