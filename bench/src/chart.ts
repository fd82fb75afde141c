// A small SVG line chart (no dependency): calls/s by load, one line per series, log scale.

export interface Series {
  name: string;
  color: string;
  /** One value per x label; undefined where the series has no cell. */
  values: (number | undefined)[];
  dashed?: boolean;
}

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const short = (n: number) => (n >= 1e6 ? `${n / 1e6}M` : n >= 1e3 ? `${n / 1e3}k` : String(n));

export function lineChart(title: string, xLabels: string[], series: Series[]): string {
  const W = 760;
  const H = 420;
  const left = 70;
  const right = 190;
  const top = 40;
  const bottom = 60;
  const all = series.flatMap((s) => s.values.filter((v): v is number => v !== undefined && v > 0));
  const lo = Math.pow(10, Math.floor(Math.log10(Math.min(...all))));
  const hi = Math.pow(10, Math.ceil(Math.log10(Math.max(...all))));
  const x = (i: number) => left + ((W - left - right) * (i + 0.5)) / xLabels.length;
  const y = (v: number) => top + ((H - top - bottom) * (Math.log10(hi) - Math.log10(v))) / (Math.log10(hi) - Math.log10(lo));
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2 - right / 2}" y="22" text-anchor="middle" font-size="14">${esc(title)}</text>`,
  ];
  for (let d = lo; d <= hi; d *= 10) {
    for (const m of [1, 2, 5]) {
      const v = d * m;
      if (v > hi) break;
      out.push(`<line x1="${left}" x2="${W - right}" y1="${y(v)}" y2="${y(v)}" stroke="${m === 1 ? '#bbb' : '#eee'}"/>`);
      out.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end" fill="#555">${short(v)}</text>`);
    }
  }
  xLabels.forEach((label, i) => out.push(`<text x="${x(i)}" y="${H - bottom + 18}" text-anchor="middle" fill="#333">${esc(label)}</text>`));
  out.push(`<text x="${(left + W - right) / 2}" y="${H - 12}" text-anchor="middle" fill="#333">load (calls in flight)</text>`);
  out.push(`<text transform="translate(16 ${(top + H - bottom) / 2}) rotate(-90)" text-anchor="middle" fill="#333">calls/s (log scale)</text>`);
  series.forEach((s, k) => {
    const pts = s.values.map((v, i) => (v === undefined || v <= 0 ? undefined : `${x(i).toFixed(1)},${y(v).toFixed(1)}`));
    // A line through consecutive points only; a gap breaks it.
    let run: string[] = [];
    const flush = () => {
      if (run.length > 1) out.push(`<polyline fill="none" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''} points="${run.join(' ')}"/>`);
      run = [];
    };
    for (const p of pts) (p ? run.push(p) : flush());
    flush();
    for (const p of pts) if (p) out.push(`<circle cx="${p.split(',')[0]}" cy="${p.split(',')[1]}" r="3.5" fill="${s.color}"/>`);
    const ly = top + 10 + k * 22;
    out.push(`<line x1="${W - right + 16}" x2="${W - right + 40}" y1="${ly}" y2="${ly}" stroke="${s.color}" stroke-width="2.5"${s.dashed ? ' stroke-dasharray="6 4"' : ''}/>`);
    out.push(`<text x="${W - right + 46}" y="${ly + 4}" fill="#222">${esc(s.name)}</text>`);
  });
  out.push('</svg>');
  return out.join('\n') + '\n';
}
