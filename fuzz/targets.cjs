// jsfuzz targets: the XMPP stream parser and QuickBlox's REST parameter parsing, on the
// instrumented copies fuzz/instrument.cjs makes. The first input byte picks the target. A target
// may refuse input (a parse error, an ApiError); anything else thrown, or a stall, is a finding.
// ES modules are loaded with require(): Node 20 needs --experimental-require-module (fuzz/run.cjs sets it).
const path = require('node:path');

const build = path.join(__dirname, '.build', 'src');
const { StreamParser } = require(path.join(build, 'xml', 'stream-parser.js'));
const chat = require(path.join(build, 'chat', 'params.js'));
const { ApiError } = require(path.join(build, 'chat', 'errors.js'));
const rest = require(path.join(build, 'rest', 'params.js'));

const LIMITS = { maxStanzaSize: 4096, maxDepth: 16, maxAttributes: 16 };
const FILTERS = { _id: 'objectId', type: 'integer', name: 'string', date_sent: 'number', created_at: 'time', occupants_ids: 'integer', data: 'custom' };

function fuzzXml(bytes) {
  let failed = false;
  const parser = new StreamParser({
    streamStart: () => {},
    element: (el) => { el.toString(); },
    streamEnd: () => {},
    parseError: () => { failed = true; },
  }, LIMITS, bytes[0] % 2 === 1);
  // Fed in two pieces split at a fuzzer-chosen point, as a socket would.
  const cut = bytes.length > 1 ? bytes[1] % bytes.length : 0;
  parser.write(bytes.subarray(2, Math.max(2, cut)));
  if (!failed) parser.write(bytes.subarray(Math.max(2, cut)));
}

function fuzzParams(bytes) {
  const text = bytes.subarray(1).toString('utf8');
  const params = rest.parseForm(text);
  for (const value of Object.values(params)) {
    chat.parseNumber(value);
    chat.parseInteger(value);
    chat.parseBoolean(value);
    chat.parseList(value);
  }
  const refusals = [
    () => chat.parseFilters(params, FILTERS),
    () => chat.parseDataFilters(params),
    () => chat.parsePaging(params, 100, 1000),
    () => chat.parseSort(params, ['_id', 'name']),
    () => chat.parseUserIds(params.occupants_ids, 'occupants_ids'),
    () => chat.parseObject(params.data, 'data'),
    () => rest.intParam(params, 'limit', 10, 100),
    () => rest.stringParam(params, 'login'),
    () => rest.objectParam(params, 'user'),
  ];
  for (const run of refusals) {
    try {
      run();
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
    }
  }
}

module.exports.fuzz = function fuzz(bytes) {
  if (bytes.length === 0) return;
  if (bytes[0] < 128) fuzzXml(bytes);
  else fuzzParams(bytes);
};
