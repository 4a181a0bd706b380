// A TypeDoc plugin: each option whose default a defaults object holds (`STORE_DEFAULTS`, …) gets it
// as its `@defaultValue` in the API reference, taken from where the options reference takes it
// (scripts/options-reference.mjs), so that no default is written in a doc comment as well.
import { CommentTag, Converter, ReflectionKind } from 'typedoc';
import { buildOptionsReference } from './options-reference.mjs';

/** @param {import('typedoc').Application} app */
export async function load(app) {
  const { declaredDefaults } = await buildOptionsReference();
  app.converter.on(Converter.EVENT_RESOLVE_END, (context) => {
    const { project } = context;
    for (const reflection of project.getReflectionsByKind(ReflectionKind.Property)) {
      const id = project.getSymbolIdFromReflection(reflection);
      const written = id && declaredDefaults.get(`${id.packagePath}:${id.pos}`);
      if (written === undefined || reflection.comment === undefined || reflection.comment.getTag('@defaultValue')) continue;
      reflection.comment.blockTags.push(
        new CommentTag('@defaultValue', [
          { kind: 'code', text: written.replace(/^(`[^`]*`)(.*)$/, '$1') },
          { kind: 'text', text: written.replace(/^`[^`]*`/, '') },
        ]),
      );
    }
  });
}
