import type { TestProject } from 'vitest/node';
import { createTemplateDatabase, dropDatabase } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
  }
}

/**
 * Once per run: when a PostgreSQL server is configured, build a migrated template database that every
 * test harness clones (CREATE DATABASE … TEMPLATE is much faster than migrating each time). The name is
 * unique per run, so two runs on one server never drop each other's template.
 */
export default async function setup(project: TestProject) {
  const url = process.env.TEST_DATABASE_URL;
  const name = `quire_test_template_${process.pid}`;
  project.provide('templateDatabase', name);
  if (!url) return;
  await createTemplateDatabase(url, name);
  return async () => {
    await dropDatabase(url, name).catch(() => {});
  };
}
