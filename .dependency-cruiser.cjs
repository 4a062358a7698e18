/**
 * No import cycles anywhere in the sources (npm run check). The walls between common/, agent/ and hub/ are
 * eslint's no-restricted-imports (eslint.config.js); cycles need the whole graph, which dependency-cruiser
 * builds from the TypeScript sources, type-only imports included (a type cycle is still a design cycle).
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'Two modules that need each other are one module, or a third one both should import (see docs/architecture.md).',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|dist|common/generated)/' },
  },
};
