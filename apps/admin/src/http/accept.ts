/** CSV when the client prefers it to JSON (a plain `text/csv`, or ranked above JSON). */
export function prefersCsv(accept: string | undefined): boolean {
  if (!accept) return false;
  const ranked = accept.split(',').map((part) => {
    const [type, ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
  });
  const q = (t: string) => Math.max(0, ...ranked.filter((r) => r.type === t).map((r) => r.q));
  return q('text/csv') > 0 && q('text/csv') >= q('application/json');
}
