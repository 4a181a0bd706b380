// Counts the names an entry point exports (values and types), for keeping the public root small:
// `node scripts/count-exports.mjs [src/index.ts src/entries/store.ts ...]` prints each entry's count and names.
import { argv, stdout } from 'node:process';
import ts from 'typescript';

const entries = argv.length > 2 ? argv.slice(2) : ['src/index.ts'];
const program = ts.createProgram(entries, {
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  noEmit: true,
});
const checker = program.getTypeChecker();
for (const entry of entries) {
  const module = checker.getSymbolAtLocation(program.getSourceFile(entry));
  const names = checker.getExportsOfModule(module).map((symbol) => symbol.name);
  stdout.write(`${entry}: ${names.length} names\n  ${names.sort().join(', ')}\n`);
}
