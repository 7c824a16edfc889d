/**
 * `$(VAR)` expansion as the kubelet does it for env values, command and args
 * (k/k third_party/forked/golang/expansion): `$(NAME)` is replaced when NAME is known and kept
 * verbatim when it is not, `$$` is an escaped `$`, any other `$` is kept as is.
 */

export type Mapping = (name: string) => string;

/** A mapping that looks names up in each context in order and leaves unknown ones as `$(NAME)`. */
export function mappingFor(...contexts: ReadonlyArray<ReadonlyMap<string, string>>): Mapping {
  return (name) => {
    for (const ctx of contexts) {
      const v = ctx.get(name);
      if (v !== undefined) return v;
    }
    return `$(${name})`;
  };
}

export function expand(input: string, mapping: Mapping): string {
  let out = '';
  let checkpoint = 0;
  for (let cursor = 0; cursor < input.length; cursor++) {
    if (input[cursor] !== '$' || cursor + 1 >= input.length) continue;
    out += input.slice(checkpoint, cursor);
    const rest = input.slice(cursor + 1);
    const { read, isVar, advance } = readVariableName(rest);
    out += isVar ? mapping(read) : read;
    cursor += advance;
    checkpoint = cursor + 1;
  }
  return out + input.slice(checkpoint);
}

function readVariableName(input: string): { read: string; isVar: boolean; advance: number } {
  if (input[0] === '$') return { read: '$', isVar: false, advance: 1 };
  if (input[0] === '(') {
    const close = input.indexOf(')', 1);
    if (close >= 0) return { read: input.slice(1, close), isVar: true, advance: close + 1 };
    // An incomplete reference is copied through.
    return { read: '$(', isVar: false, advance: 1 };
  }
  return { read: '$' + input[0], isVar: false, advance: 1 };
}
