import neostandard from 'neostandard'

// neostandard (no semicolons, a space before function parens), with TypeScript.
export default [
  ...neostandard({ ts: true, ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.bench-tmp/**', '.test-js/**'] }),
  {
    rules: {
      // `void promise` marks a promise deliberately left floating (its errors are handled where it is made).
      'no-void': 'off',
      // Message names are wire names (leaf style: C2S_UserLogin, S2C_Message).
      camelcase: ['error', { properties: 'never', allow: ['^C2S_', '^S2C_'] }]
    }
  },
  {
    // A TypeBox schema and its Static<> type share one name (the value and the type of one answer).
    files: ['src/answers.ts', 'src/figures/schema.ts', 'src/history/page.ts'],
    rules: { '@typescript-eslint/no-redeclare': 'off' }
  },
  {
    // uPlot's constructor is named in lower case by its authors.
    files: ['ui/src/chart.ts'],
    rules: { 'new-cap': ['error', { newIsCapExceptions: ['uPlot'] }] }
  },
  {
    // The example's demo page is a browser script.
    files: ['examples/chat/demo/*.js'],
    languageOptions: { globals: { location: 'readonly', document: 'readonly', FormData: 'readonly', URLSearchParams: 'readonly', fetch: 'readonly' } }
  },
  {
    // prom-client metrics register themselves in their constructor.
    files: ['plugins/metrics.ts'],
    rules: { 'no-new': 'off' }
  }
]
