#!/usr/bin/env node
/**
 * Generates dataplane/base/model/schema/known-fields.json: for each kind knet stores, the tree of
 * field names the Kubernetes API accepts, so strict validation can reject unknown fields the way
 * the apiserver's strict decoding does (`unknown field "spec.foo"`).
 *
 * Source: the TypeScript declarations of `kubernetes-models`, walked with the TypeScript
 * compiler's type checker. We read kubernetes-models rather than kubernetes-types because the
 * type/format validator (kubernetes-models' ajv schemas) comes from the same OpenAPI version;
 * both layers then agree on what a real field is.
 *
 * Output encoding (compact on purpose, it is committed):
 *   { "kinds": { Kind: TypeName }, "types": { TypeName: { field: Ref } } }
 *   Ref = "."        a scalar (string, number, boolean, IntOrString, Quantity, Time)
 *       | "*"        a free-form object (RawExtension, FieldsV1): anything goes below it
 *       | TypeName   an object with the fields of types[TypeName]
 *       | "[]" Ref   an array of Ref
 *       | "{}" Ref   a map from string keys to Ref
 *
 * Run: npm run gen:schema   (node scripts/gen-known-fields.mjs)
 *      node scripts/gen-known-fields.mjs --check   exits 1 when the committed file is stale
 */
import { createRequire } from 'node:module';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..');
const require = createRequire(path.join(root, 'package.json'));
const modelsDir = path.dirname(require.resolve('kubernetes-models/package.json'));

/** Kind -> declaration file inside kubernetes-models. */
const KIND_FILES = {
  Namespace: 'v1/Namespace.d.ts',
  Node: 'v1/Node.d.ts',
  Pod: 'v1/Pod.d.ts',
  Service: 'v1/Service.d.ts',
  Endpoints: 'v1/Endpoints.d.ts',
  Secret: 'v1/Secret.d.ts',
  ConfigMap: 'v1/ConfigMap.d.ts',
  ServiceAccount: 'v1/ServiceAccount.d.ts',
  Event: 'v1/Event.d.ts',
  Deployment: 'apps/v1/Deployment.d.ts',
  ReplicaSet: 'apps/v1/ReplicaSet.d.ts',
  StatefulSet: 'apps/v1/StatefulSet.d.ts',
  DaemonSet: 'apps/v1/DaemonSet.d.ts',
  Job: 'batch/v1/Job.d.ts',
  CronJob: 'batch/v1/CronJob.d.ts',
  EndpointSlice: 'discovery.k8s.io/v1/EndpointSlice.d.ts',
  Ingress: 'networking.k8s.io/v1/Ingress.d.ts',
  IngressClass: 'networking.k8s.io/v1/IngressClass.d.ts',
  NetworkPolicy: 'networking.k8s.io/v1/NetworkPolicy.d.ts',
  Lease: 'coordination.k8s.io/v1/Lease.d.ts',
  PersistentVolume: 'v1/PersistentVolume.d.ts',
  PersistentVolumeClaim: 'v1/PersistentVolumeClaim.d.ts',
  ReplicationController: 'v1/ReplicationController.d.ts',
  LimitRange: 'v1/LimitRange.d.ts',
  ResourceQuota: 'v1/ResourceQuota.d.ts',
  HorizontalPodAutoscaler: 'autoscaling/v2/HorizontalPodAutoscaler.d.ts',
  PodDisruptionBudget: 'policy/v1/PodDisruptionBudget.d.ts',
  ClusterRole: 'rbac.authorization.k8s.io/v1/ClusterRole.d.ts',
  ClusterRoleBinding: 'rbac.authorization.k8s.io/v1/ClusterRoleBinding.d.ts',
  Role: 'rbac.authorization.k8s.io/v1/Role.d.ts',
  RoleBinding: 'rbac.authorization.k8s.io/v1/RoleBinding.d.ts',
  PriorityClass: 'scheduling.k8s.io/v1/PriorityClass.d.ts',
  StorageClass: 'storage.k8s.io/v1/StorageClass.d.ts',
};

const files = Object.values(KIND_FILES).map((f) => path.join(modelsDir, f));
const program = ts.createProgram(files, {
  target: ts.ScriptTarget.ES2022,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noEmit: true,
  skipLibCheck: true,
});
const checker = program.getTypeChecker();

/** "v1/ServicePort", "apps/v1/DeploymentSpec", "meta/v1/ObjectMeta": readable and unique. */
function typeName(symbol) {
  const decl = symbol.declarations?.[0];
  const file = decl.getSourceFile().fileName.replace(/\\/g, '/');
  const m = /(?:kubernetes-models|@kubernetes-models\/apimachinery)\/(?:apis\/)?(.+)\.d\.ts$/.exec(file);
  if (!m) throw new Error(`unexpected declaration file ${file}`);
  return m[1];
}

const types = {};

function isScalar(type) {
  if (type.isUnion()) return type.types.every(isScalar);
  const f = type.flags;
  return Boolean(
    f &
      (ts.TypeFlags.StringLike |
        ts.TypeFlags.NumberLike |
        ts.TypeFlags.BooleanLike |
        ts.TypeFlags.Null |
        ts.TypeFlags.Undefined),
  );
}

/**
 * `hint` names an anonymous object type: kubernetes-models inlines a few types where they are
 * used (StatefulSetSpec.volumeClaimTemplates: the PersistentVolumeClaim's fields), and such a
 * type's symbol is `__type` in the using file — by file alone it would take the name of the type
 * that uses it.
 */
function ref(rawType, hint) {
  const type = checker.getNonNullableType(rawType);
  if (isScalar(type)) return '.';
  if (checker.isArrayType(type)) return `[]${ref(checker.getTypeArguments(type)[0], hint)}`;
  const props = checker.getPropertiesOfType(type);
  const index = checker.getIndexInfoOfType(type, ts.IndexKind.String);
  if (props.length === 0 && index) return `{}${ref(index.type)}`;
  if (props.length === 0) return '*';
  const symbol = type.aliasSymbol ?? type.getSymbol();
  if (!symbol) throw new Error(`anonymous object type ${checker.typeToString(type)}`);
  const name = symbol.getName() === '__type' && hint ? hint : typeName(symbol);
  if (!(name in types)) {
    types[name] = null; // reserve first: the API has recursive types (JSONSchemaProps-like)
    const fields = {};
    for (const p of props) {
      const decl = p.valueDeclaration ?? p.declarations?.[0];
      fields[p.getName()] = ref(checker.getTypeOfSymbolAtLocation(p, decl), `${name}.${p.getName()}`);
    }
    types[name] = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => (a < b ? -1 : 1)));
  }
  return name;
}

const kinds = {};
for (const [kind, file] of Object.entries(KIND_FILES)) {
  const sf = program.getSourceFile(path.join(modelsDir, file));
  if (!sf) throw new Error(`missing ${file}`);
  const moduleSymbol = checker.getSymbolAtLocation(sf);
  const iface = checker.getExportsOfModule(moduleSymbol).find((s) => s.getName() === `I${kind}`);
  if (!iface) throw new Error(`no interface I${kind} in ${file}`);
  kinds[kind] = ref(checker.getDeclaredTypeOfSymbol(iface));
}

const sortedTypes = Object.fromEntries(Object.keys(types).sort().map((k) => [k, types[k]]));
const version = require('kubernetes-models/package.json').version;
// One type per line: compact, yet a regenerated file diffs readably.
const lines = Object.entries(sortedTypes).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)}`);
const out =
  `{\n  "source": ${JSON.stringify(`kubernetes-models@${version}`)},\n` +
  `  "kinds": ${JSON.stringify(kinds)},\n  "types": {\n${lines.join(',\n')}\n  }\n}\n`;
const target = path.join(root, 'dataplane/base/model/schema/known-fields.json');
if (process.argv.includes('--check')) {
  // For tests and CI: fail when the committed tree no longer matches the installed schema.
  const current = existsSync(target) ? readFileSync(target, 'utf8') : '';
  if (current !== out) {
    console.error(`${path.relative(root, target)} is stale: run npm run gen:schema`);
    process.exit(1);
  }
  console.log(`${path.relative(root, target)} is up to date`);
} else {
  writeFileSync(target, out);
  console.log(`wrote ${path.relative(root, target)}: ${Object.keys(kinds).length} kinds, ${lines.length} types`);
}
