/**
 * The patch metadata of a field, read from the OpenAPI component schemas the way kubectl reads it
 * (strategicpatch.PatchMetaFromOpenAPIV3): follow `allOf[0]` and `$ref`, then take x-kubernetes-patch-strategy and
 * x-kubernetes-patch-merge-key from the property. Fields the schema does not know merge as maps and replace as lists.
 */
type Schema = Record<string, unknown>;

export interface FieldMeta {
  strategies: string[];
  mergeKey?: string;
}

export class SchemaNode {
  constructor(
    private readonly schemas: Record<string, Schema>,
    readonly schema: Schema,
  ) {}

  static of(schemas: Record<string, Schema>, def: string): SchemaNode | undefined {
    const s = schemas[def];
    return s ? new SchemaNode(schemas, s) : undefined;
  }

  private resolve(s: Schema | undefined): SchemaNode | undefined {
    let cur = s;
    for (let i = 0; cur && i < 8; i++) {
      const allOf = cur.allOf as Schema[] | undefined;
      if (allOf?.length) {
        cur = allOf[0];
        continue;
      }
      const ref = cur.$ref as string | undefined;
      if (!ref) break;
      cur = this.schemas[ref.replace('#/components/schemas/', '')];
    }
    return cur ? new SchemaNode(this.schemas, cur) : undefined;
  }

  /** The property `key` (or the map value schema): its patch metadata and its own node. */
  child(key: string): { meta: FieldMeta; node?: SchemaNode } {
    const props = this.schema.properties as Record<string, Schema> | undefined;
    const prop = props?.[key] ?? (this.schema.additionalProperties as Schema | undefined);
    if (!prop) return { meta: { strategies: [] } };
    const strategy = prop['x-kubernetes-patch-strategy'] as string | undefined;
    const mergeKey = prop['x-kubernetes-patch-merge-key'] as string | undefined;
    const meta: FieldMeta = { strategies: strategy ? strategy.split(',') : [] };
    if (mergeKey) meta.mergeKey = mergeKey;
    return { meta, node: this.resolve(prop) };
  }

  /** Whether `key` is a declared property (or the schema is a map or preserves unknown fields). */
  knows(key: string): boolean {
    const props = this.schema.properties as Record<string, Schema> | undefined;
    if (this.schema['x-kubernetes-preserve-unknown-fields'] || this.schema.additionalProperties) return true;
    return props === undefined || key in props;
  }

  /** The schema of an array's items. */
  items(): SchemaNode | undefined {
    return this.resolve(this.schema.items as Schema | undefined);
  }
}
