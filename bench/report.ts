import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type LatencyBar, latencyChart } from './svg-chart.js';
import { markdownTable } from './table.js';

/** One table of the report, with what it measured in a form a program can read back. */
export interface Section {
  readonly title: string;
  readonly header: string[];
  readonly rows: string[][];
  readonly note?: string;
}

/**
 * Collects every figure of one `npm run bench` and writes them to bench/results/: report.json
 * (the sections and the raw latency figures), report.md (the same as Markdown tables) and
 * latency.svg (p50 latency per operation and value size, raw SDK beside the store).
 */
export class Report {
  private readonly sections: Section[] = [];
  private readonly latencies: LatencyBar[] = [];
  private readonly started = Date.now();

  constructor(private readonly quick: boolean) {}

  add(section: Section): void {
    this.sections.push(section);
    console.log(`\n${section.title}\n\n${markdownTable(section.header, section.rows)}${section.note ? `\n\n${section.note}` : ''}`);
  }

  addLatency(bar: LatencyBar): void {
    this.latencies.push(bar);
  }

  async write(): Promise<string> {
    const directory = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'bench', 'results');
    await mkdir(directory, { recursive: true });
    const meta = {
      date: new Date().toISOString(),
      quick: this.quick,
      durationSeconds: Math.round((Date.now() - this.started) / 1000),
      node: process.version,
      platform: `${process.platform} ${process.arch}`,
    };
    await writeFile(
      join(directory, 'report.json'),
      `${JSON.stringify({ meta, sections: this.sections, latencies: this.latencies }, null, 2)}\n`,
    );
    const markdown = [
      `# nest-dynamo-cache benchmark report`,
      '',
      `${meta.date}, ${meta.quick ? 'BENCH_QUICK run' : 'full run'} in ${meta.durationSeconds} s, Node ${meta.node}, ${meta.platform}, one DynamoDB Local. ` +
        'Medians of interleaved rounds; ratios compare contenders measured side by side in this run.',
      '',
      '![p50 latency per operation and value size](latency.svg)',
      ...this.sections.flatMap((section) => [
        '',
        `## ${section.title}`,
        '',
        markdownTable(section.header, section.rows),
        ...(section.note ? ['', section.note] : []),
      ]),
      '',
    ].join('\n');
    await writeFile(join(directory, 'report.md'), markdown);
    await writeFile(join(directory, 'latency.svg'), latencyChart(this.latencies));
    return directory;
  }
}
