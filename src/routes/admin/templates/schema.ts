import { z } from '@hono/zod-openapi';

export const TemplateList = z
  .array(
    z.object({
      name: z.string().openapi({ example: 'update-announcement' }),
      description: z.string(),
      propsSchema: z
        .record(z.string(), z.unknown())
        .openapi({ description: 'JSON Schema of the props a broadcast with this template takes.' }),
      exampleProps: z.record(z.string(), z.unknown()),
    }),
  )
  .openapi('TemplateList');
