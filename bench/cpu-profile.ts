import { readFile } from 'node:fs/promises';

/** The parts of a V8 .cpuprofile (what `node --cpu-prof` writes) that a self-time summary reads. */
interface CpuProfile {
  nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number } }>;
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  readonly name: string;
  readonly ms: number;
}

export interface ProfileSummary {
  /** Sampled time in the window, idle included (ms). */
  readonly totalMs: number;
  readonly idleMs: number;
  /** Self time per function (`name file:line`), most first. */
  readonly functions: SelfTime[];
  /** Self time per package (or Node's internals by module, V8's GC, program), most first. */
  readonly packages: SelfTime[];
}

/**
 * Self time per function and per package of the last `windowSeconds` of a profile: the load, not
 * the app's start-up (module loading and compiling) nor its warm-up, which come before.
 */
export async function summarizeProfile(path: string, windowSeconds: number): Promise<ProfileSummary> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as CpuProfile;
  const frames = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const from = profile.endTime - windowSeconds * 1e6;
  const byFunction = new Map<string, number>();
  const byPackage = new Map<string, number>();
  let time = profile.startTime;
  let totalMs = 0;
  let idleMs = 0;
  profile.samples.forEach((id, index) => {
    // A sample's time is the gap before the next one: V8's own accounting.
    time += profile.timeDeltas[index]!;
    const ms = (profile.timeDeltas[index + 1] ?? 0) / 1000;
    if (time < from) return;
    const frame = frames.get(id)!;
    totalMs += ms;
    if (frame.functionName === '(idle)') idleMs += ms;
    const where = frame.url === '' ? '' : ` ${shortUrl(frame.url)}:${frame.lineNumber + 1}`;
    const name = `${frame.functionName || '(anonymous)'}${where}`;
    byFunction.set(name, (byFunction.get(name) ?? 0) + ms);
    const pack = packageOf(frame.url, frame.functionName);
    byPackage.set(pack, (byPackage.get(pack) ?? 0) + ms);
  });
  const sorted = (map: Map<string, number>) => [...map].map(([name, ms]) => ({ name, ms })).sort((a, b) => b.ms - a.ms);
  return { totalMs, idleMs, functions: sorted(byFunction), packages: sorted(byPackage) };
}

function shortUrl(url: string): string {
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) return url.slice(inModules + 'node_modules/'.length);
  const inDist = url.indexOf('/dist/');
  if (inDist >= 0) return `nest-dynamo-cache${url.slice(inDist)}`;
  return url.replace(/^file:\/\/.*\/\.build\//, '.build/');
}

/** `express`, `@nestjs/core`, `node:_http_outgoing`, `nest-dynamo-cache`, `(garbage collector)`… */
function packageOf(url: string, functionName: string): string {
  if (url === '') return functionName.startsWith('(') ? functionName : '(native)';
  if (url.startsWith('node:')) return url;
  const inModules = url.lastIndexOf('node_modules/');
  if (inModules >= 0) {
    const [scope, name] = url.slice(inModules + 'node_modules/'.length).split('/');
    return scope!.startsWith('@') ? `${scope}/${name}` : scope!;
  }
  if (url.includes('/dist/')) return 'nest-dynamo-cache';
  return 'bench app';
}
