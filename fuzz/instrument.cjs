// Copies the compiled modules the fuzz targets load into fuzz/.build/, instrumented for coverage
// (istanbul, as jsfuzz reads it from global.__coverage__). jsfuzz instruments only what it loads
// through require(); Parley is ES modules, so they are instrumented here, ahead of the run.
const fs = require('node:fs');
const path = require('node:path');
const { createInstrumenter } = require('istanbul-lib-instrument');

const root = path.resolve(__dirname, '..');
const from = path.join(root, 'dist', 'src');
const to = path.join(__dirname, '.build', 'src');
/** The parsers under test and what they import. */
const FILES = {
  xml: ['chars.js', 'element.js', 'stream-parser.js'],
  chat: ['params.js', 'errors.js', 'objectid.js'],
  rest: ['params.js'],
};

const instrumenter = createInstrumenter({ esModules: true, compact: true, produceSourceMap: false });
fs.rmSync(path.join(__dirname, '.build'), { recursive: true, force: true });
for (const [folder, names] of Object.entries(FILES)) {
  fs.mkdirSync(path.join(to, folder), { recursive: true });
  for (const name of names) {
    const file = path.join(from, folder, name);
    const code = fs.readFileSync(file, 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/, '');
    fs.writeFileSync(path.join(to, folder, name), instrumenter.instrumentSync(code, file));
  }
}
fs.writeFileSync(path.join(__dirname, '.build', 'package.json'), '{"type":"module"}\n');
