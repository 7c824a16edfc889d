/**
 * Go's `json:",omitempty"` for scalar fields: encoding/json leaves out a 0, "" or false, so a
 * Deployment with nothing unavailable has no `unavailableReplicas` at all. Status writers list
 * the fields their upstream struct tags as omitempty (the others, such as a ReplicaSet's
 * `replicas`, stay even when 0). Pure: returns a copy.
 */
export function omitEmpty<T extends object>(o: T, fields: ReadonlyArray<keyof T>): T {
  const out = { ...o };
  for (const f of fields) {
    const v = out[f] as unknown;
    if (v === 0 || v === '' || v === false) delete out[f];
  }
  return out;
}
