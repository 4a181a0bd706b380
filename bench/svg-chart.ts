/** One operation at one value size: the raw SDK's p50 and the store's, in ms. */
export interface LatencyBar {
  readonly operation: string;
  readonly size: string;
  readonly rawMs: number;
  readonly storeMs: number;
  /** What the raw side did, when it is not the same call (e.g. "20 × 100 KB, one BatchGetItem"). */
  readonly rawLabel?: string;
}

const ROW_HEIGHT = 34;
const LEFT = 230;
const PLOT_WIDTH = 520;
const TOP = 56;
const COLORS = { raw: '#9aa5b1', store: '#2f6fde' };

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/**
 * A horizontal bar chart, two bars per row (raw SDK, nest-dynamo-cache), on a log scale: the
 * figures run from a fraction of a millisecond to tens of them. Plain SVG with no script or
 * external font, so that GitHub renders it inline.
 */
export function latencyChart(bars: readonly LatencyBar[]): string {
  const values = bars.flatMap((bar) => [bar.rawMs, bar.storeMs]).filter((value) => value > 0);
  const low = 10 ** Math.floor(Math.log10(Math.min(...values, 1)));
  const high = 10 ** Math.ceil(Math.log10(Math.max(...values, 10)));
  const x = (ms: number) => (PLOT_WIDTH * (Math.log10(Math.max(ms, low)) - Math.log10(low))) / (Math.log10(high) - Math.log10(low));
  const height = TOP + bars.length * ROW_HEIGHT + 40;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${LEFT + PLOT_WIDTH + 90}" height="${height}" font-family="sans-serif" font-size="12">`,
    `<rect width="100%" height="100%" fill="#fff"/>`,
    `<text x="10" y="20" font-size="15" font-weight="bold">p50 latency per operation and value size (ms, log scale; DynamoDB Local)</text>`,
    `<rect x="${LEFT}" y="30" width="12" height="12" fill="${COLORS.raw}"/><text x="${LEFT + 18}" y="40">raw AWS SDK</text>`,
    `<rect x="${LEFT + 130}" y="30" width="12" height="12" fill="${COLORS.store}"/><text x="${LEFT + 148}" y="40">nest-dynamo-cache</text>`,
  ];
  for (let tick = low; tick <= high; tick *= 10) {
    const tx = LEFT + x(tick);
    parts.push(`<line x1="${tx}" y1="${TOP - 4}" x2="${tx}" y2="${height - 34}" stroke="#e3e7eb"/>`);
    parts.push(
      `<text x="${tx}" y="${height - 20}" text-anchor="middle">${tick >= 1 ? tick : tick.toFixed(Math.abs(Math.log10(tick)))}</text>`,
    );
  }
  bars.forEach((bar, index) => {
    const y = TOP + index * ROW_HEIGHT;
    parts.push(`<text x="${LEFT - 8}" y="${y + 13}" text-anchor="end">${escape(`${bar.operation}, ${bar.size}`)}</text>`);
    if (bar.rawLabel)
      parts.push(
        `<text x="${LEFT - 8}" y="${y + 26}" text-anchor="end" fill="#6b7785" font-size="10">${escape(`raw: ${bar.rawLabel}`)}</text>`,
      );
    parts.push(`<rect x="${LEFT}" y="${y}" width="${x(bar.rawMs).toFixed(1)}" height="13" fill="${COLORS.raw}"/>`);
    parts.push(`<text x="${LEFT + x(bar.rawMs) + 4}" y="${y + 11}" font-size="10">${bar.rawMs.toFixed(2)}</text>`);
    parts.push(`<rect x="${LEFT}" y="${y + 14}" width="${x(bar.storeMs).toFixed(1)}" height="13" fill="${COLORS.store}"/>`);
    parts.push(
      `<text x="${LEFT + x(bar.storeMs) + 4}" y="${y + 25}" font-size="10">${bar.storeMs.toFixed(2)} (${(bar.storeMs / bar.rawMs).toFixed(2)}×)</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
