/** Reading `-f FILE|DIR|-` the way kubectl does: a directory contributes its .yaml/.yml/.json files, sorted. */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';

export interface SourceText {
  source: string;
  text: string;
}

export function readSources(paths: string[], stdin: () => string): SourceText[] {
  const out: SourceText[] = [];
  for (const p of paths) {
    if (p === '-') {
      out.push({ source: '<stdin>', text: stdin() });
      continue;
    }
    let st;
    try {
      st = statSync(p);
    } catch {
      throw new Error(`error: the path "${p}" does not exist`);
    }
    if (st.isDirectory()) {
      const files = readdirSync(p)
        .filter((f) => ['.yaml', '.yml', '.json'].includes(extname(f)))
        .sort();
      for (const f of files) out.push({ source: join(p, f), text: readFileSync(join(p, f), 'utf8') });
    } else {
      out.push({ source: p, text: readFileSync(p, 'utf8') });
    }
  }
  return out;
}
