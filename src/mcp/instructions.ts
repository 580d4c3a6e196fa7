/**
 * The words an agent reads before it uses the pod: server instructions and the remember tool's
 * description, both naming this pod's actual public prefixes (pod.toml `public_prefixes`).
 */

export function prefixList(prefixes: readonly string[]): string {
  return prefixes.length ? prefixes.map((p) => `"${p}"`).join(', ') : '(none: this pod shares nothing)'
}

export function serverInstructions(prefixes: readonly string[]): string {
  return [
    "Mazemaker is the operator's memory pod. A memory is a label plus text content.",
    `SHARING: labels starting with ${prefixList(prefixes)} are shared with every paired peer pod, which keeps a copy. ` +
      'Any other label (e.g. "note:", "private:", "todo:") stays on this pod, encrypted at rest. Pick the label for who may read it.',
    'RECALL: call mazemaker_recall with a few words before starting on a task and when the user refers to earlier work; ' +
      'results include copies from peers, labelled "peer:<peer-id>:<label>" (read-only).',
    'REMEMBER: store decisions, fixes, conventions and facts worth keeping, one idea per memory, with a descriptive label such as "decision:db-choice".',
    'Before sharing something sensitive, mazemaker_share_preview shows exactly what peers would receive. The resource mazemaker://context holds the memories relevant to the current project and recent work.',
  ].join('\n')
}

export function rememberDescription(prefixes: readonly string[], maxContentBytes: number): string {
  return (
    `Store one memory (label + content, content up to ${maxContentBytes} bytes of UTF-8). ` +
    `Labels starting with ${prefixList(prefixes)} are SHARED: every paired peer pod receives a copy on its next pull. ` +
    'Every other label is private to this pod and stored encrypted. Labels starting with "peer:" are reserved for copies from peers. ' +
    'Storing the same content twice makes two memories.'
  )
}
