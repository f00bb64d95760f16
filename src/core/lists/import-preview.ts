import type { CoreDeps } from '../deps.js';
import { classify, prepareAll, rowContext } from './import.js';
import type { ImportRow } from './import-row.js';

/**
 * The import's dry run: what `importSubscribers` would do with each row, decided by the same checks and
 * the same classification, with nothing written. A row can still change between the preview and the
 * import (someone signs up meanwhile); the import decides again under its row locks.
 */

export const rowActions = ['add_active', 'add_pending', 'activate', 'skip_existing', 'skip_left', 'invalid'] as const;
export type RowAction = (typeof rowActions)[number];

export interface RowPlan {
  row: number;
  /** The address as the file has it (normalised when valid). */
  email: string;
  action: RowAction;
  /** Why, in the author's words: the evidence, the status found, or what is wrong with the row. */
  detail: string;
  topics: string[];
}

export interface ImportPreview {
  counts: Record<RowAction, number>;
  rows: RowPlan[];
}

/** Reads per query; a dry run takes no locks, so its chunks can be larger than the import's. */
const CHUNK_ROWS = 500;

const day = (d: Date) => d.toISOString().slice(0, 10);

export async function previewImport(deps: CoreDeps, rows: ImportRow[]): Promise<ImportPreview> {
  const ctx = await rowContext(deps);
  const { prepared, invalid } = prepareAll(rows, ctx);
  const plans: RowPlan[] = [];
  const emailOf = new Map(rows.map((r, i) => [r.row ?? i + 1, typeof r.email === 'string' ? r.email.trim() : '']));
  for (const r of invalid)
    plans.push({
      row: r.row,
      email: (emailOf.get(r.row) ?? '').slice(0, 320),
      action: 'invalid',
      detail: `${r.field}: ${r.message}`,
      topics: [],
    });

  for (let i = 0; i < prepared.length; i += CHUNK_ROWS) {
    const chunk = prepared.slice(i, i + CHUNK_ROWS);
    const decisions = await classify(deps.db, chunk, false);
    chunk.forEach((r, j) => {
      const d = decisions[j]!;
      const plan = { row: r.row, email: r.email, topics: r.topics };
      const evidence = r.evidence ? `consent on ${day(r.evidence.at)}: ${r.evidence.source}` : '';
      if (d.kind === 'insert' && r.evidence) plans.push({ ...plan, action: 'add_active', detail: evidence });
      else if (d.kind === 'insert')
        plans.push({
          ...plan,
          action: 'add_pending',
          detail: 'gets a confirmation mail; subscribed once they confirm',
        });
      else if (d.kind === 'upgrade')
        plans.push({ ...plan, action: 'activate', detail: `pending now; becomes active with ${evidence}` });
      else if (d.kind === 'existing')
        plans.push({
          ...plan,
          action: 'skip_existing',
          detail:
            d.status === 'pending'
              ? 'already pending: their confirmation mail went out'
              : 'already on the list, active',
        });
      else plans.push({ ...plan, action: 'skip_left', detail: d.why });
    });
  }

  plans.sort((a, b) => a.row - b.row);
  const counts = Object.fromEntries(rowActions.map((a) => [a, 0])) as Record<RowAction, number>;
  for (const p of plans) counts[p.action]++;
  return { counts, rows: plans };
}
