/** @jsxImportSource hono/jsx */
import { Fragment } from 'hono/jsx';
import { Page } from './layout.js';

/** The parts of an OpenAPI 3.1 document the reference shows. */
interface Schema {
  $ref?: string;
  type?: string | string[];
  items?: Schema;
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  properties?: Record<string, Schema>;
  required?: string[];
  description?: string;
  format?: string;
}
interface Media {
  schema?: Schema;
}
interface Operation {
  operationId?: string;
  summary?: string;
  description?: string;
  tags?: string[];
  security?: Record<string, string[]>[];
  parameters?: { name: string; in: string; required?: boolean; description?: string; schema?: Schema }[];
  requestBody?: { content?: Record<string, Media> };
  responses?: Record<string, { description?: string; content?: Record<string, Media> }>;
}
export interface ApiDocument {
  info: { title: string; version: string; description?: string };
  servers?: { url: string }[];
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, Schema>; securitySchemes?: Record<string, { description?: string }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];
const refName = (ref: string) => ref.slice(ref.lastIndexOf('/') + 1);

/** A schema in one line: a link for a named schema, the element type for an array, the values of an enum. */
function TypeOf({ schema }: { schema: Schema | undefined }) {
  if (!schema) return <>any</>;
  if (schema.$ref) return <a href={`#schema-${refName(schema.$ref)}`}>{refName(schema.$ref)}</a>;
  const union = schema.anyOf ?? schema.oneOf;
  if (union)
    return (
      <>
        {union.map((s, i) => (
          <Fragment key={String(i)}>
            {i > 0 ? ' | ' : ''}
            <TypeOf schema={s} />
          </Fragment>
        ))}
      </>
    );
  if (schema.const !== undefined) return <code>{JSON.stringify(schema.const)}</code>;
  if (schema.enum) return <code>{schema.enum.map((v) => JSON.stringify(v)).join(' | ')}</code>;
  const types = Array.isArray(schema.type) ? schema.type : [schema.type ?? 'object'];
  return (
    <>
      {types.map((t, i) => (
        <Fragment key={t}>
          {i > 0 ? ' | ' : ''}
          {t === 'array' ? (
            <>
              array of <TypeOf schema={schema.items} />
            </>
          ) : (
            `${t}${schema.format && t === 'string' ? ` (${schema.format})` : ''}`
          )}
        </Fragment>
      ))}
    </>
  );
}

function Content({ content }: { content: Record<string, Media> | undefined }) {
  if (!content) return null;
  return (
    <>
      {Object.entries(content).map(([type, media]) => (
        <span key={type} class="meta">
          {' '}
          <code>{type}</code>: <TypeOf schema={media.schema} />
        </span>
      ))}
    </>
  );
}

function OperationEntry({ method, path, op }: { method: string; path: string; op: Operation }) {
  const auth = (op.security ?? []).flatMap((s) => Object.keys(s));
  return (
    <section class="api-op" id={op.operationId}>
      <h3>
        <code>
          {method.toUpperCase()} {path}
        </code>
      </h3>
      <p>
        {op.summary} <span class="meta">{auth.length ? `Auth: ${auth.join(', ')}.` : 'No auth.'}</span>
      </p>
      {op.description ? <p class="muted">{op.description}</p> : null}
      {op.parameters?.length ? (
        <ul>
          {op.parameters.map((p) => (
            <li key={`${p.in}:${p.name}`}>
              <code>{p.name}</code> ({p.in}
              {p.required ? ', required' : ''}): <TypeOf schema={p.schema} />
              {p.description ? ` — ${p.description}` : ''}
            </li>
          ))}
        </ul>
      ) : null}
      {op.requestBody ? (
        <p>
          Body:
          <Content content={op.requestBody.content} />
        </p>
      ) : null}
      <dl class="api-responses">
        {Object.entries(op.responses ?? {}).map(([status, r]) => (
          <Fragment key={status}>
            <dt>{status}</dt>
            <dd>
              {r.description}
              <Content content={r.content} />
            </dd>
          </Fragment>
        ))}
      </dl>
    </section>
  );
}

function SchemaEntry({ name, schema }: { name: string; schema: Schema }) {
  const required = new Set(schema.required ?? []);
  return (
    <section class="api-schema" id={`schema-${name}`}>
      <h3>{name}</h3>
      {schema.description ? <p class="muted">{schema.description}</p> : null}
      {schema.properties ? (
        <dl class="api-responses">
          {Object.entries(schema.properties).map(([prop, s]) => (
            <Fragment key={prop}>
              <dt>
                <code>{prop}</code>
                {required.has(prop) ? '' : ' (optional)'}
              </dt>
              <dd>
                <TypeOf schema={s} />
                {s.description ? ` — ${s.description}` : ''}
              </dd>
            </Fragment>
          ))}
        </dl>
      ) : (
        <p>
          <TypeOf schema={schema} />
        </p>
      )}
    </section>
  );
}

/**
 * /docs: the OpenAPI document as a page, rendered here from the document itself. No script and
 * nothing from another origin, so it works offline and under the app's own Content-Security-Policy.
 */
export function ApiReferencePage({ doc, bookTitle }: { doc: ApiDocument; bookTitle: string }) {
  const byTag = new Map<string, { method: string; path: string; op: Operation }[]>();
  for (const [path, item] of Object.entries(doc.paths))
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const tag = op.tags?.[0] ?? 'Other';
      byTag.set(tag, [...(byTag.get(tag) ?? []), { method, path, op }]);
    }
  return (
    <Page title="API reference" bookTitle={bookTitle} kicker={`${doc.info.title} ${doc.info.version}`} wide>
      <h1>API reference</h1>
      <p>{doc.info.description}</p>
      <p>
        The machine-readable document: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1)
        {doc.servers?.[0] ? `, served from ${doc.servers[0].url}` : ''}.
      </p>
      <nav aria-label="Sections">
        <ul>
          {[...byTag.keys()].map((tag) => (
            <li key={tag}>
              <a href={`#tag-${tag}`}>{tag}</a>
            </li>
          ))}
          <li>
            <a href="#schemas">Schemas</a>
          </li>
        </ul>
      </nav>
      {[...byTag.entries()].map(([tag, ops]) => (
        <section key={tag} id={`tag-${tag}`}>
          <h2>{tag}</h2>
          {ops.map((o) => (
            <OperationEntry key={`${o.method} ${o.path}`} {...o} />
          ))}
        </section>
      ))}
      <h2 id="schemas">Schemas</h2>
      {Object.entries(doc.components?.schemas ?? {}).map(([name, schema]) => (
        <SchemaEntry key={name} name={name} schema={schema} />
      ))}
    </Page>
  );
}
