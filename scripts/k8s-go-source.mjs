/**
 * Reads the parts of Kubernetes' Go API sources (k8s.io/api, k8s.io/apimachinery) that
 * scripts/gen-api-schema.mjs needs, the way the upstream generators read them:
 *
 *  - struct types: each field's Go name, type expression, json tag (name, omitempty, inline),
 *    protobuf tag (the proto field it is encoded as), patch tags, and its doc comment lines;
 *  - the struct's own doc comment (markers such as +structType=atomic live there);
 *  - string types marked +enum and their constants (kube-openapi's "Possible enum values").
 *
 * Comment lines are what go/ast's CommentGroup.Text() yields (the `//` and one space removed),
 * so generateDescription below sees what kube-openapi's generator sees.
 */
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

const packages = new Map();

/** Parses one Go package directory (non-test files); cached. */
export function goPackage(srcRoot, importPath) {
  let pkg = packages.get(importPath);
  if (pkg) return pkg;
  pkg = { importPath, structs: new Map(), enums: new Map(), stringTypes: new Map() };
  const dir = path.join(srcRoot, importPath);
  const consts = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.endsWith('.go') || file.endsWith('_test.go')) continue;
    parseFile(readFileSync(path.join(dir, file), 'utf8'), pkg, consts);
  }
  for (const c of consts) {
    const e = pkg.enums.get(c.type);
    if (e && !e.values.some((v) => v.value === c.value)) e.values.push(c);
  }
  packages.set(importPath, pkg);
  return pkg;
}

function commentText(line) {
  const m = /^\s*\/\/ ?(.*)$/.exec(line);
  return m ? m[1].replace(/\s+$/, '') : undefined;
}

function parseFile(text, pkg, consts) {
  const lines = text.split('\n');
  const imports = new Map();
  let comments = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    const c = commentText(line);
    if (c !== undefined && /^\s*\/\//.test(line)) {
      comments.push(c);
      continue;
    }
    const imp = /^\s*(?:import\s+)?(\w+\s+)?"(k8s\.io\/[^"]+)"\s*$/.exec(line);
    if (imp) imports.set(imp[1]?.trim() ?? imp[2].split('/').pop(), imp[2]);
    const empty = /^type (\w+) struct\s*\{\s*\}\s*$/.exec(line);
    if (empty) {
      pkg.structs.set(empty[1], { name: empty[1], comments: trimBlank(comments), fields: [], imports });
      comments = [];
      continue;
    }
    const struct = /^type (\w+) struct \{\s*$/.exec(line);
    if (struct) {
      const fields = [];
      let fieldComments = [];
      for (i++; i < lines.length && lines[i] !== '}'; i++) {
        const l = lines[i];
        const fc = commentText(l);
        if (fc !== undefined && /^\s*\/\//.test(l)) {
          fieldComments.push(fc);
          continue;
        }
        if (!l.trim()) {
          fieldComments = [];
          continue;
        }
        const f = /^\s*(?:(\w+)\s+)?([^\s`]+)\s*`([^`]*)`/.exec(l);
        if (f) {
          const goName = f[1] ?? f[2].split('.').pop();
          const tags = parseTags(f[3]);
          // go-to-protobuf names an untagged field after the Go field (EphemeralContainerCommon).
          if (tags.protobuf && !tags.protobuf.name) tags.protobuf.name = goName.charAt(0).toLowerCase() + goName.slice(1);
          fields.push({ goName, embedded: !f[1], goType: f[2], tags, comments: trimBlank(fieldComments), imports });
        }
        fieldComments = [];
      }
      pkg.structs.set(struct[1], { name: struct[1], comments: trimBlank(comments), fields, imports });
      comments = [];
      continue;
    }
    const str = /^type (\w+) string\s*$/.exec(line);
    if (str) {
      pkg.stringTypes.set(str[1], trimBlank(comments));
      if (comments.some((l) => l.trim() === '+enum')) pkg.enums.set(str[1], { name: str[1], values: [] });
    }
    const cst = /^\s*(?:const\s+)?(\w+)\s+(\w+)\s*=\s*"((?:[^"\\]|\\.)*)"\s*$/.exec(line);
    if (cst) consts.push({ name: cst[1], type: cst[2], value: JSON.parse(`"${cst[3]}"`), comment: comments.join(' ') });
    comments = [];
  }
}

function trimBlank(lines) {
  let a = 0;
  let b = lines.length;
  while (a < b && !lines[a].trim()) a++;
  while (b > a && !lines[b - 1].trim()) b--;
  return lines.slice(a, b);
}

/** `json:"name,omitempty" protobuf:"bytes,1,opt,name=name"` → { json: {name, omitempty, inline}, protobuf: {name, number}, … }. */
function parseTags(raw) {
  const tags = {};
  for (const m of raw.matchAll(/(\w+):"((?:[^"\\]|\\.)*)"/g)) tags[m[1]] = m[2];
  const out = { raw: tags };
  if (tags.json !== undefined) {
    const [name, ...opts] = tags.json.split(',');
    out.json = { name, omitempty: opts.includes('omitempty'), inline: opts.includes('inline') };
  }
  if (tags.protobuf !== undefined) {
    const parts = tags.protobuf.split(',');
    out.protobuf = { number: Number(parts[1]), name: parts.find((p) => p.startsWith('name='))?.slice(5) };
  }
  if (tags.patchStrategy) out.patchStrategy = tags.patchStrategy;
  if (tags.patchMergeKey) out.patchMergeKey = tags.patchMergeKey;
  return out;
}

/** Comment markers (`+listType=map`, `+listMapKey=a`, `+listMapKey=b`) → { listType: ['map'], listMapKey: ['a','b'] }. */
export function markers(commentLines) {
  const out = {};
  for (const line of commentLines) {
    const m = /^\s*\+([\w.]+)(?:=(.*))?$/.exec(line);
    if (m) (out[m[1]] ??= []).push((m[2] ?? '').trim());
  }
  return out;
}

/** kube-openapi's generateDescription (pkg/generators/openapi.go), line for line. */
export function generateDescription(commentLines) {
  let buffer = '';
  const delPrevChar = () => {
    if (buffer.length > 0) buffer = buffer.slice(0, -1);
  };
  for (let line of commentLines) {
    if (line === '---') break;
    line = line.replace(/ +$/, '');
    const leading = line.replace(/^ +/, '');
    if (line.length === 0) {
      delPrevChar();
      buffer += '\n\n';
    } else if (leading.startsWith('TODO') || leading.startsWith('+')) {
      // one-line TODOs and generator markers are not documentation
    } else if (line.startsWith(' ') || line.startsWith('\t')) {
      delPrevChar();
      buffer += `\n${line}\n`;
    } else {
      buffer += `${line} `;
    }
  }
  return buffer.trim();
}

/** kube-openapi's enum description lines (pkg/generators/enum.go DescriptionLines). */
export function enumDescriptionLines(enumType) {
  if (!enumType.values.length) return [];
  const lines = enumType.values
    .map((v) => {
      let comment = v.comment.trim();
      if (comment.startsWith(v.name)) comment = comment.slice(v.name.length);
      comment = comment.trim().replace(/\s+/g, ' ');
      return ` - \`${JSON.stringify(v.value)}\` ${comment}`;
    })
    .sort();
  return ['', 'Possible enum values:', ...lines];
}
