// Longer than the house limit: data, not logic — the subsets of the custom resource schemas
// (Strimzi, Gateway API, Prometheus operator) the manifests rely on.
/**
 * Offline checks of the custom resources the manifests use (Strimzi KafkaTopic, Gateway API
 * Gateway/HTTPRoute, Envoy Gateway EnvoyProxy/ClientTrafficPolicy/BackendTrafficPolicy): a
 * hand-written subset of each CRD's OpenAPI schema, closed (`additionalProperties: false`) at
 * every level the manifests write to, so a misspelt or misplaced field fails. These are the fields
 * we rely on, written from the upstream CRDs (Strimzi 0.4x kafka.strimzi.io/v1beta2, Gateway API
 * v1.2 standard channel, Envoy Gateway v1.4 gateway.envoyproxy.io/v1alpha1); a field not listed
 * here fails until it is added. Not checked: everything else those CRDs define, CEL validation
 * rules, and whether the controllers accept the combination (k8s/README.md, "What is validated").
 */

export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  properties?: Record<string, Schema>;
  required?: string[];
  /** false: no other keys; a schema: every other key's value. Default: anything. */
  additionalProperties?: boolean | Schema;
  items?: Schema;
  enum?: readonly (string | number | boolean)[];
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  /** Any of these (by type): strings or integers, as Kubernetes' int-or-string. */
  anyOf?: Schema[];
}

/** Violations of `schema` by `value`, each `path: problem`; empty when valid. */
export function validateSchema(value: unknown, schema: Schema, path = ''): string[] {
  if (schema.anyOf) {
    return schema.anyOf.some((s) => validateSchema(value, s, path).length === 0)
      ? []
      : [`${path || '/'}: matches none of ${schema.anyOf.map((s) => s.type).join(', ')}`];
  }
  const at = path || '/';
  switch (schema.type) {
    case 'object': {
      if (typeof value !== 'object' || value === null || Array.isArray(value))
        return [`${at}: not an object`];
      const errors: string[] = [];
      const record = value as Record<string, unknown>;
      for (const key of schema.required ?? [])
        if (!(key in record)) errors.push(`${at}: ${key} is required`);
      for (const [key, v] of Object.entries(record)) {
        const sub = schema.properties?.[key];
        if (sub) errors.push(...validateSchema(v, sub, `${path}/${key}`));
        else if (schema.additionalProperties === false)
          errors.push(`${path}/${key}: unknown field`);
        else if (typeof schema.additionalProperties === 'object')
          errors.push(...validateSchema(v, schema.additionalProperties, `${path}/${key}`));
      }
      return errors;
    }
    case 'array': {
      if (!Array.isArray(value)) return [`${at}: not an array`];
      const errors: string[] = [];
      if (schema.minItems !== undefined && value.length < schema.minItems)
        errors.push(`${at}: fewer than ${schema.minItems} items`);
      if (schema.maxItems !== undefined && value.length > schema.maxItems)
        errors.push(`${at}: more than ${schema.maxItems} items`);
      if (schema.items)
        value.forEach((v, i) => errors.push(...validateSchema(v, schema.items!, `${path}/${i}`)));
      return errors;
    }
    case 'string':
      if (typeof value !== 'string') return [`${at}: not a string`];
      if (schema.pattern && !new RegExp(schema.pattern).test(value))
        return [`${at}: ${JSON.stringify(value)} does not match ${schema.pattern}`];
      break;
    case 'integer':
      if (typeof value !== 'number' || !Number.isInteger(value)) return [`${at}: not an integer`];
      break;
    case 'number':
      if (typeof value !== 'number') return [`${at}: not a number`];
      break;
    case 'boolean':
      if (typeof value !== 'boolean') return [`${at}: not a boolean`];
      break;
  }
  if (schema.enum && !schema.enum.includes(value as string))
    return [`${at}: ${JSON.stringify(value)} is not one of ${schema.enum.join(', ')}`];
  if (typeof value === 'number') {
    if (schema.minimum !== undefined && value < schema.minimum)
      return [`${at}: < ${schema.minimum}`];
    if (schema.maximum !== undefined && value > schema.maximum)
      return [`${at}: > ${schema.maximum}`];
  }
  return [];
}

const str: Schema = { type: 'string' };
const int: Schema = { type: 'integer' };
const strMap: Schema = { type: 'object', additionalProperties: str };
/** A Gateway API Duration (GEP-2257): 1h, 30s, 500ms, 0s… */
const duration: Schema = { type: 'string', pattern: '^([0-9]{1,5}(h|m|s|ms)){1,4}$' };
const closed = (properties: Record<string, Schema>, required: string[] = []): Schema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
});
const metadata: Schema = {
  type: 'object',
  required: ['name'],
  properties: {
    name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$' },
    namespace: str,
    labels: strMap,
    annotations: strMap,
  },
  additionalProperties: false,
};
const resource = (apiVersion: string, kind: string, spec: Schema): Schema =>
  closed(
    {
      apiVersion: { type: 'string', enum: [apiVersion] },
      kind: { type: 'string', enum: [kind] },
      metadata,
      spec,
    },
    ['apiVersion', 'kind', 'metadata', 'spec'],
  );
const policyTargetRefs: Schema = {
  type: 'array',
  minItems: 1,
  items: closed(
    {
      group: { type: 'string', enum: ['gateway.networking.k8s.io'] },
      kind: { type: 'string', enum: ['Gateway', 'HTTPRoute', 'GRPCRoute'] },
      name: str,
      sectionName: str,
    },
    ['group', 'kind', 'name'],
  ),
};

const kafkaTopic = resource(
  'kafka.strimzi.io/v1beta2',
  'KafkaTopic',
  closed(
    {
      topicName: str,
      partitions: { type: 'integer', minimum: 1 },
      replicas: { type: 'integer', minimum: 1, maximum: 32767 },
      config: {
        type: 'object',
        additionalProperties: { anyOf: [str, int, { type: 'boolean' }, { type: 'number' }] },
      },
    },
    ['partitions', 'replicas'],
  ),
);

const gateway = resource(
  'gateway.networking.k8s.io/v1',
  'Gateway',
  closed(
    {
      gatewayClassName: str,
      infrastructure: closed({
        labels: strMap,
        annotations: strMap,
        parametersRef: closed({ group: str, kind: str, name: str }, ['group', 'kind', 'name']),
      }),
      listeners: {
        type: 'array',
        minItems: 1,
        maxItems: 64,
        items: closed(
          {
            name: str,
            hostname: str,
            port: { type: 'integer', minimum: 1, maximum: 65535 },
            protocol: { type: 'string', enum: ['HTTP', 'HTTPS', 'TLS', 'TCP', 'UDP'] },
            tls: closed({
              mode: { type: 'string', enum: ['Terminate', 'Passthrough'] },
              certificateRefs: {
                type: 'array',
                items: closed({ group: str, kind: str, name: str, namespace: str }, ['name']),
              },
              options: strMap,
            }),
            allowedRoutes: closed({
              namespaces: closed({
                from: { type: 'string', enum: ['All', 'Same', 'Selector'] },
                selector: { type: 'object' },
              }),
              kinds: { type: 'array', items: closed({ group: str, kind: str }, ['kind']) },
            }),
          },
          ['name', 'port', 'protocol'],
        ),
      },
    },
    ['gatewayClassName', 'listeners'],
  ),
);

const httpRoute = resource(
  'gateway.networking.k8s.io/v1',
  'HTTPRoute',
  closed({
    parentRefs: {
      type: 'array',
      items: closed(
        { group: str, kind: str, name: str, namespace: str, sectionName: str, port: int },
        ['name'],
      ),
    },
    hostnames: { type: 'array', items: str },
    rules: {
      type: 'array',
      maxItems: 16,
      items: closed({
        name: str,
        matches: {
          type: 'array',
          items: closed({
            path: closed({
              type: { type: 'string', enum: ['Exact', 'PathPrefix', 'RegularExpression'] },
              value: { type: 'string', pattern: '^/' },
            }),
            method: str,
            headers: { type: 'array' },
            queryParams: { type: 'array' },
          }),
        },
        timeouts: closed({ request: duration, backendRequest: duration }),
        backendRefs: {
          type: 'array',
          items: closed(
            {
              group: str,
              kind: str,
              name: str,
              namespace: str,
              port: { type: 'integer', minimum: 1, maximum: 65535 },
              weight: int,
            },
            ['name'],
          ),
        },
      }),
    },
  }),
);

const envoyProxy = resource(
  'gateway.envoyproxy.io/v1alpha1',
  'EnvoyProxy',
  closed({
    provider: closed(
      {
        type: { type: 'string', enum: ['Kubernetes', 'Custom'] },
        kubernetes: closed({
          envoyDeployment: closed({ replicas: { type: 'integer', minimum: 0 } }),
          envoyService: closed({
            type: { type: 'string', enum: ['ClusterIP', 'LoadBalancer', 'NodePort'] },
            externalTrafficPolicy: { type: 'string', enum: ['Cluster', 'Local'] },
            annotations: strMap,
            labels: strMap,
            loadBalancerClass: str,
          }),
        }),
      },
      ['type'],
    ),
    shutdown: closed({ drainTimeout: duration, minDrainDuration: duration }),
    telemetry: closed({
      accessLog: closed({
        disable: { type: 'boolean' },
        settings: {
          type: 'array',
          items: closed({
            format: closed(
              { type: { type: 'string', enum: ['Text', 'JSON'] }, text: str, json: strMap },
              ['type'],
            ),
            sinks: {
              type: 'array',
              minItems: 1,
              items: closed(
                {
                  type: { type: 'string', enum: ['File', 'OpenTelemetry', 'ALS'] },
                  file: closed({ path: str }, ['path']),
                },
                ['type'],
              ),
            },
          }),
        },
      }),
    }),
  }),
);

const clientTrafficPolicy = resource(
  'gateway.envoyproxy.io/v1alpha1',
  'ClientTrafficPolicy',
  closed(
    {
      targetRefs: policyTargetRefs,
      timeout: closed({
        http: closed({
          idleTimeout: duration,
          streamIdleTimeout: duration,
          requestReceivedTimeout: duration,
        }),
        tcp: closed({ idleTimeout: duration }),
      }),
      tcpKeepalive: closed({ idleTime: duration, interval: duration, probes: int }),
    },
    ['targetRefs'],
  ),
);

const backendTrafficPolicy = resource(
  'gateway.envoyproxy.io/v1alpha1',
  'BackendTrafficPolicy',
  closed(
    {
      targetRefs: policyTargetRefs,
      loadBalancer: closed(
        {
          type: {
            type: 'string',
            enum: ['LeastRequest', 'RoundRobin', 'Random', 'ConsistentHash'],
          },
        },
        ['type'],
      ),
      retry: closed({
        numRetries: { type: 'integer', minimum: 0 },
        retryOn: closed({
          triggers: {
            type: 'array',
            items: {
              type: 'string',
              enum: [
                '5xx',
                'gateway-error',
                'reset',
                'connect-failure',
                'retriable-status-codes',
                'refused-stream',
                'cancelled',
                'deadline-exceeded',
                'internal',
                'resource-exhausted',
                'unavailable',
              ],
            },
          },
          httpStatusCodes: {
            type: 'array',
            items: { type: 'integer', minimum: 100, maximum: 599 },
          },
        }),
      }),
      timeout: closed({
        tcp: closed({ connectTimeout: duration }),
        http: closed({ connectionIdleTimeout: duration, maxConnectionDuration: duration }),
      }),
    },
    ['targetRefs'],
  ),
);

/** Schemas by `apiVersion/kind`. */
export const CRD_SCHEMAS: Record<string, Schema> = {
  'kafka.strimzi.io/v1beta2/KafkaTopic': kafkaTopic,
  'gateway.networking.k8s.io/v1/Gateway': gateway,
  'gateway.networking.k8s.io/v1/HTTPRoute': httpRoute,
  'gateway.envoyproxy.io/v1alpha1/EnvoyProxy': envoyProxy,
  'gateway.envoyproxy.io/v1alpha1/ClientTrafficPolicy': clientTrafficPolicy,
  'gateway.envoyproxy.io/v1alpha1/BackendTrafficPolicy': backendTrafficPolicy,
};
