/**
 * The answer notation of docs/admin-api.md, `{ a, b?: { c }, items: [{ d }], m: { <name> } }`,
 * read and compared with a JSON Schema (a route's TypeBox response schema).
 */

/** A documented object: its keys, each optional or not, with the shape of its value when the page gives one. */
export type Shape = Map<string, { optional: boolean, value?: Shape | 'map', array: boolean }>

export function parseShape (text: string): Shape {
  let i = 0
  const space = (): void => { while (/\s/.test(text[i] ?? '')) i++ }
  const expect = (c: string): void => {
    space()
    if (text[i] !== c) throw new Error(`expected ${c} at ${i} in ${text}`)
    i++
  }
  const object = (): Shape | 'map' => {
    expect('{')
    const shape: Shape = new Map()
    let map = false
    for (;;) {
      space()
      if (text[i] === '}') { i++; break }
      const key = /^[\w<>]+/.exec(text.slice(i))
      if (key === null) throw new Error(`expected a key at ${i} in ${text}`)
      i += key[0].length
      if (key[0].startsWith('<')) map = true
      const optional = text[i] === '?'
      if (optional) i++
      space()
      let value: Shape | 'map' | undefined
      let array = false
      if (text[i] === ':') {
        i++
        space()
        if (text[i] === '[') { i++; array = true; value = object(); expect(']') } else if (text[i] === '{') value = object()
        else while (i < text.length && text[i] !== ',' && text[i] !== '}') i++
      }
      shape.set(key[0], { optional, array, ...(value === undefined ? {} : { value }) })
      space()
      if (text[i] === ',') i++
    }
    return map ? 'map' : shape
  }
  const shape = object()
  if (shape === 'map') throw new Error('an answer is an object with named keys')
  return shape
}

interface ObjectSchema { properties?: Record<string, unknown>, required?: string[], patternProperties?: object, additionalProperties?: unknown, items?: unknown }

/** What differs between a documented shape and a schema; empty when they agree. */
export function schemaMismatches (shape: Shape | 'map', schema: unknown, path = '$'): string[] {
  const s = (schema ?? {}) as ObjectSchema
  if (shape === 'map') {
    return s.patternProperties !== undefined || typeof s.additionalProperties === 'object' ? [] : [`${path}: documented as a map, the schema is not one`]
  }
  if (s.properties === undefined) return [`${path}: documented as an object, the schema has no properties`]
  const out: string[] = []
  const required = new Set(s.required ?? [])
  for (const key of Object.keys(s.properties)) if (!shape.has(key)) out.push(`${path}.${key}: in the schema, not documented`)
  for (const [key, doc] of shape) {
    if (!(key in s.properties)) { out.push(`${path}.${key}: documented, not in the schema`); continue }
    if (doc.optional === required.has(key)) out.push(`${path}.${key}: documented as ${doc.optional ? 'optional' : 'always there'}, the schema says otherwise`)
    if (doc.value === undefined) continue
    const sub = s.properties[key] as ObjectSchema
    out.push(...schemaMismatches(doc.value, doc.array ? sub.items : sub, `${path}.${key}`))
  }
  return out
}
