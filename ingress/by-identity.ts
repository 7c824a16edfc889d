/**
 * A function's results cached per argument object. Informer objects are replaced, never
 * mutated, on every change (and the table's endpoint lists are rebuilt with it), so a parse or
 * a derived structure can be kept as long as its input object lives.
 */
export function byIdentity<K extends object, V>(compute: (key: K) => V): (key: K) => V {
  const cache = new WeakMap<K, V>();
  return (key) => {
    if (cache.has(key)) return cache.get(key) as V;
    const value = compute(key);
    cache.set(key, value);
    return value;
  };
}
