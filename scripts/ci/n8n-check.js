// Helpers of scripts/ci/n8n.sh (JSON work without jq):
//   node n8n-check.js fixtures DIR FAST_ENV SLOW_ENV   writes credentials.json and workflows/*.json
//   node n8n-check.js success RAW_OUTPUT STATS_URL      asserts the generate run and one Run
//   node n8n-check.js fanout RAW_OUTPUT STATS_URL RUNS  two prompts → two tasks, two MP4s
//   node n8n-check.js refused OUTPUT STATS_URL RUNS     one bad item stops all, no Run sent
//   node n8n-check.js package PKG BUILT_IN_PKG MODEL... the package's catalog nodes are MODELs
//                                                       exactly; their selects show the labels
//   node n8n-check.js catalog RAW_OUTPUT STATS_URL RUNS KIND  a catalog model's run (pictures|chat)
//   node n8n-check.js running STATS_URL SECONDS         waits until a task runs and is followed
//   node n8n-check.js killed STATS_URL SECONDS          waits until that task was stopped, asserts it
'use strict';

const fs = require('fs');
const path = require('path');

function fail(message) {
  console.error(`n8n-check: FAIL: ${message}`);
  process.exit(1);
}

/** The four `export NAME=VALUE` lines of `wiro-nodes emulator`, as an object. */
function readEnv(file) {
  const env = {};
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    const match = /^export ([A-Z_]+)=(.*)$/.exec(line.trim());
    if (match) env[match[1]] = match[2];
  }
  if (!env.WIRO_BASE_URL) fail(`${file} has no WIRO_BASE_URL line`);
  return env;
}

function credential(id, name, env) {
  return {
    id,
    name,
    type: 'wiroNodesApi',
    data: {
      apiKey: env.WIRO_API_KEY,
      apiSecret: env.WIRO_API_SECRET || '',
      baseUrl: env.WIRO_BASE_URL,
      socketUrl: env.WIRO_SOCKET_URL,
      binaryPath: '',
    },
  };
}

/** A workflow of a chain of nodes: Start (Manual Trigger), then `steps` in order. */
function chain(id, name, credentialId, credentialName, steps) {
  const credentials = { wiroNodesApi: { id: credentialId, name: credentialName } };
  const nodes = [
    {
      id: `${id}-start`,
      name: 'Start',
      type: 'n8n-nodes-base.manualTrigger',
      typeVersion: 1,
      position: [0, 0],
      parameters: {},
    },
  ];
  const connections = {};
  steps.forEach(([stepName, type, parameters], index) => {
    const node = {
      id: `${id}-${index}`,
      name: stepName,
      type,
      typeVersion: type === 'n8n-nodes-base.code' ? 2 : 1,
      position: [220 * (index + 1), 0],
      parameters,
    };
    if (type.startsWith('CUSTOM.')) node.credentials = credentials;
    connections[nodes[nodes.length - 1].name] = { main: [[{ node: stepName, type: 'main', index: 0 }]] };
    nodes.push(node);
  });
  return { id, name, active: false, nodes, connections, settings: {}, pinData: {} };
}

const VIDEO = 'CUSTOM.wiroPixverseTextToVideoV4';
const WAIT = ['Wait', 'CUSTOM.wiroTaskWait', { poll_seconds: 0.5, timeout_seconds: 600 }];
const DOWNLOAD = ['Download', 'CUSTOM.wiroOutputDownload', {}];
const code = (items) => ['Prompts', 'n8n-nodes-base.code', { jsCode: `return ${JSON.stringify(items)};` }];

function fixtures(dir, fastEnvFile, slowEnvFile) {
  const fast = readEnv(fastEnvFile);
  const slow = readEnv(slowEnvFile);
  const write = (file, value) => fs.writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2));
  fs.mkdirSync(path.join(dir, 'workflows'), { recursive: true });
  write('credentials.json', [
    credential('wiroFastEmu01', 'Wiro emulator (fast)', fast),
    credential('wiroSlowEmu01', 'Wiro emulator (slow)', slow),
  ]);
  const onFast = (id, name, steps) => chain(id, name, 'wiroFastEmu01', 'Wiro emulator (fast)', steps);
  const fromItem = { prompt: '={{ $json.prompt }}', quality: '={{ $json.quality }}', duration: '={{ $json.duration }}' };
  write('workflows/generate.json', onFast('wiroE2eGen0001', 'wiro e2e generate', [
    ['Video', VIDEO, { prompt: 'A paper boat drifts down a rain-soaked street', quality: '360p', duration: 5 }],
    WAIT,
    DOWNLOAD,
  ]));
  write('workflows/fanout.json', onFast('wiroE2eFan0001', 'wiro e2e fan-out', [
    code([
      { json: { prompt: 'A red kite over a beach', quality: '360p', duration: 5 } },
      { json: { prompt: 'A blue kite over a field', quality: '360p', duration: 5 } },
    ]),
    ['Video', VIDEO, fromItem],
    WAIT,
    DOWNLOAD,
  ]));
  write('workflows/refuse.json', onFast('wiroE2eRef0001', 'wiro e2e refuse', [
    code([
      { json: { prompt: 'A possible video', quality: '360p', duration: 5 } },
      { json: { prompt: 'An impossible video', quality: '1080p', duration: 8 } },
    ]),
    ['Video', VIDEO, fromItem],
  ]));
  // Two catalog models, exported from the emulator's synced catalog.
  write('workflows/pictures.json', onFast('wiroE2eCat0001', 'wiro e2e catalog pictures', [
    ['Pictures', 'CUSTOM.wiroImageStudio', { prompt: 'A paper boat on a pond', numberOfOutputs: 2, width: 256, height: 256 }],
    WAIT,
    DOWNLOAD,
  ]));
  write('workflows/chat.json', onFast('wiroE2eCat0002', 'wiro e2e catalog chat', [
    ['Ask', 'CUSTOM.wiroChat', { prompt: 'Name a paper boat.' }],
    WAIT,
    DOWNLOAD,
  ]));
  write('workflows/cancel.json', chain('wiroE2eCan0001', 'wiro e2e cancel', 'wiroSlowEmu01', 'Wiro emulator (slow)', [
    ['Video', VIDEO, { prompt: 'A lighthouse in a storm, to be cancelled', quality: '360p', duration: 5 }],
    WAIT,
  ]));
}

async function stats(url) {
  const answer = await fetch(url);
  if (!answer.ok) fail(`${url} answered ${answer.status}`);
  return answer.json();
}

/**
 * `n8n execute --rawOutput` prints log lines, then the run data as pretty JSON, and may print
 * more log lines after it (the task runner registers when it likes): the run data is the
 * object that starts at a line's `{` and ends at a line's `}`.
 */
function runData(file) {
  const text = fs.readFileSync(file, 'utf8');
  const ends = [];
  for (let end = text.indexOf('\n}'); end !== -1; end = text.indexOf('\n}', end + 1)) ends.push(end + 2);
  for (let start = text.indexOf('{\n'); start !== -1; start = text.indexOf('{\n', start + 1)) {
    for (const end of ends.filter((end) => end > start).reverse()) {
      try {
        const data = JSON.parse(text.slice(start, end));
        if (data && data.data && data.data.resultData) return data;
      } catch (_) {
        // Not the run data's bounds: keep looking.
      }
    }
  }
  return fail(`no run data in ${file}:\n${text.slice(-2000)}`);
}

/** The bytes n8n keeps for a binary property: inline base64, or its filesystem store. */
function storedBinary(binary) {
  const prefix = 'filesystem-v2:';
  if (binary.id && binary.id.startsWith(prefix)) {
    const home = path.join(process.env.N8N_USER_FOLDER || '', '.n8n', 'storage');
    return fs.readFileSync(path.join(home, binary.id.slice(prefix.length)));
  }
  return Buffer.from(binary.data, 'base64');
}

async function success(rawFile, statsUrl) {
  const run = runData(rawFile);
  const result = run.data.resultData;
  if (result.error) fail(`the execution failed: ${JSON.stringify(result.error).slice(0, 800)}`);
  const item = (name) => {
    const runs = result.runData[name];
    if (!runs || !runs[0] || !runs[0].data) fail(`node ${name} did not run`);
    const items = runs[0].data.main[0];
    if (!items || items.length !== 1) fail(`node ${name} gave ${items ? items.length : 0} items, not 1`);
    return items[0];
  };
  const video = item('Video').json;
  if (!video.taskid || !video.task || video.task.taskid !== video.taskid) {
    fail(`the Video item has no task id: ${JSON.stringify(video)}`);
  }
  const wait = item('Wait').json;
  if (wait.taskid !== video.taskid || typeof wait.cost !== 'number' || !(wait.cost > 0)) {
    fail(`the Wait item lacks the task id or a cost: ${JSON.stringify(wait).slice(0, 400)}`);
  }
  const download = item('Download');
  const binary = download.binary && download.binary.data;
  if (!binary || binary.mimeType !== 'video/mp4') {
    fail(`the Download item has no video/mp4 binary data: ${JSON.stringify(download.binary)}`);
  }
  const file = download.json.path;
  if (!file || !fs.existsSync(file)) fail(`the Download item's path ${file} does not exist`);
  const head = fs.readFileSync(file).subarray(4, 8).toString('latin1');
  if (head !== 'ftyp') fail(`${file} is not an MP4 (bytes 4..8 are ${JSON.stringify(head)})`);
  const stored = storedBinary(binary);
  const sha256 = require('crypto').createHash('sha256').update(stored).digest('hex');
  if (sha256 !== download.json.files[0].sha256) {
    fail(`the binary data (${stored.length} bytes) is not the downloaded MP4`);
  }
  if (download.json.taskid !== video.taskid || download.json.cost !== wait.cost) {
    fail('the Download item does not carry the task id and cost through');
  }
  const counters = await stats(statsUrl);
  if (counters.runs_accepted !== 1 || counters.succeeded !== 1) {
    fail(`the emulator saw ${counters.runs_accepted} Runs and ${counters.succeeded} successes, not exactly 1`);
  }
  console.log(
    `n8n-check: ok: task ${video.taskid} cost $${wait.cost}; ${binary.fileName} (${binary.mimeType}, ${binary.fileSize || fs.statSync(file).size}) in the binary data; ${file}; exactly 1 Run on the emulator`,
  );
}

async function fanout(rawFile, statsUrl, runsBefore) {
  const result = runData(rawFile).data.resultData;
  if (result.error) fail(`the fan-out execution failed: ${JSON.stringify(result.error).slice(0, 800)}`);
  const items = (name) => (result.runData[name] || [{}])[0].data.main[0];
  const videos = items('Video');
  const downloads = items('Download');
  if (videos.length !== 2 || items('Wait').length !== 2 || downloads.length !== 2) {
    fail(`two prompts gave ${videos.length}/${items('Wait').length}/${downloads.length} items, not 2 each`);
  }
  const tasks = new Set(videos.map((item) => item.json.taskid));
  const paths = new Set(downloads.map((item) => item.json.path));
  if (tasks.size !== 2 || paths.size !== 2) fail('the two prompts did not get two tasks and two files');
  downloads.forEach((item, index) => {
    if (!item.binary || !item.binary.data || item.binary.data.mimeType !== 'video/mp4') {
      fail(`download item ${index} has no MP4 binary data`);
    }
    if (item.pairedItem.item !== index) fail(`download item ${index} is paired with ${item.pairedItem.item}`);
  });
  const counters = await stats(statsUrl);
  if (counters.runs_accepted !== runsBefore + 2) {
    fail(`two prompts made ${counters.runs_accepted - runsBefore} Runs, not 2`);
  }
  console.log(`n8n-check: ok: two prompts fanned out to tasks ${[...tasks].join(', ')} and two MP4s; 2 Runs`);
}

async function refused(outputFile, statsUrl, runsBefore) {
  const text = fs.readFileSync(outputFile, 'utf8');
  for (const expected of ['Item 1', 'duration', 'pixverse/1080p-max-5s', 'nothing was sent']) {
    if (!text.includes(expected)) fail(`the refusal does not say ${JSON.stringify(expected)}:\n${text.slice(-3000)}`);
  }
  const counters = await stats(statsUrl);
  if (counters.runs_accepted !== runsBefore) {
    fail(`a refused list still sent ${counters.runs_accepted - runsBefore} Runs`);
  }
  const line = text.split('\n').find((l) => l.includes('pixverse/1080p-max-5s'));
  console.log(`n8n-check: ok: refused before any Run: ${line.trim()}`);
}

/** The nodes of a package as n8n loads them, by type id (a node's subtitle is its type). */
function loadNodes(pkg) {
  const nodes = new Map();
  for (const dir of fs.readdirSync(path.join(pkg, 'dist/nodes'))) {
    const mod = require(path.resolve(pkg, 'dist/nodes', dir, `${dir}.node.js`));
    const { description } = new mod[dir]();
    nodes.set(description.subtitle, description);
  }
  return nodes;
}

/** The n8n property named `name`, top level or inside a collection. */
function property(description, name) {
  for (const p of description.properties) {
    if (p.name === name) return p;
    const inner = p.type === 'collection' && (p.options || []).find((o) => o.name === name);
    if (inner) return inner;
  }
  return undefined;
}

/**
 * `export n8n --models MODEL...`: the package holds the built-in nodes plus exactly those
 * catalog models, carries their definitions, and n8n shows a select's labels, not its values.
 */
function packageCheck(pkg, builtInPkg, ...models) {
  const wanted = [...models].sort();
  const nodes = loadNodes(pkg);
  const types = [...nodes.keys()].sort();
  const expected = [...new Set([...loadNodes(builtInPkg).keys(), ...wanted])].sort();
  if (JSON.stringify(types) !== JSON.stringify(expected)) {
    fail(`the package holds ${JSON.stringify(types)}, expected the built-in nodes and ${JSON.stringify(wanted)}`);
  }
  const catalog = JSON.parse(fs.readFileSync(path.join(pkg, 'dist/wiro-catalog.json'), 'utf8'));
  const carried = catalog.models.map((m) => m.type).sort();
  if (JSON.stringify(carried) !== JSON.stringify(wanted)) fail(`the package carries ${JSON.stringify(carried)}`);
  if (fs.existsSync(path.join(builtInPkg, 'dist/wiro-catalog.json'))) fail('a package of built-in nodes carries a catalog');
  // Every option whose label differs from its value (x-enum-labels) shows that label in n8n.
  const shown = [];
  for (const model of catalog.models) {
    for (const field of (model.parameters || []).flatMap((group) => group.items || [])) {
      const prop = property(nodes.get(model.type), field.id);
      if (!prop || prop.type !== 'options') continue;
      for (const { label, value } of field.options || []) {
        if (label === value) continue;
        const option = prop.options.find((o) => o.value === value);
        if (!option || option.name !== label) fail(`${model.type} ${field.id}: n8n shows ${JSON.stringify(option)} for ${value}, not ${JSON.stringify(label)}`);
        shown.push(`${value} → ${label}`);
      }
    }
  }
  if (!shown.some((s) => s === 'watercolor → Watercolour')) fail(`no select label differing from its value was checked: ${shown}`);
  console.log(`n8n-check: ok: catalog nodes ${wanted.join(', ')} and no other (${types.length} nodes); labels shown: ${shown.length} (${shown.slice(0, 3).join(', ')}, ...)`);
}

/** A catalog model's run: two PNGs from image-studio, or chat's answer as text and a file. */
async function catalog(rawFile, statsUrl, runsAfter, kind) {
  const result = runData(rawFile).data.resultData;
  if (result.error) fail(`the ${kind} execution failed: ${JSON.stringify(result.error).slice(0, 800)}`);
  const item = (name) => {
    const items = ((((result.runData[name] || [])[0] || {}).data || {}).main || [])[0];
    if (!items || items.length !== 1) fail(`${kind}: node ${name} gave ${items ? items.length : 0} items, not 1`);
    return items[0];
  };
  const download = item('Download');
  const files = download.json.files || [];
  const binaries = Object.values(download.binary || {});
  const sha256 = (bytes) => require('crypto').createHash('sha256').update(bytes).digest('hex');
  if (kind === 'pictures') {
    const asked = item('Wait').json.task.parameters;
    if (asked.numberOfOutputs !== '2' || asked.width !== '256' || asked.height !== '256') {
      fail(`the Run did not get the node's inputs: ${JSON.stringify(asked)}`);
    }
    const types = files.map((f) => f.contenttype);
    if (types.length !== 2 || !types.every((t) => t === 'image/png')) fail(`image-studio gave ${JSON.stringify(types)}, not 2 PNGs`);
    if (binaries.length !== 2) fail(`${binaries.length} binary properties, not 2: ${JSON.stringify(download.binary)}`);
    binaries.forEach((binary, index) => {
      const bytes = storedBinary(binary);
      if (binary.mimeType !== 'image/png' || bytes.subarray(1, 4).toString('latin1') !== 'PNG') fail(`binary ${index} is not a PNG`);
      if (sha256(bytes) !== files[index].sha256) fail(`binary ${index} is not ${files[index].path}`);
    });
  } else {
    const answer = item('Wait').json.text;
    if (typeof answer !== 'string' || !answer) fail(`the Wait item has no text answer: ${JSON.stringify(item('Wait').json).slice(0, 400)}`);
    const saved = files.length === 1 && fs.readFileSync(files[0].path, 'utf8');
    if (!files[0].path.endsWith('.txt') || saved !== answer) fail(`the answer was not saved as its .txt file: ${JSON.stringify(files)}`);
    const binary = binaries.length === 1 && binaries[0];
    if (!binary || !binary.mimeType.startsWith('text/plain') || !binary.fileName.endsWith('.txt') || storedBinary(binary).toString('utf8') !== answer) {
      fail(`the binary data is not the answer as a .txt: ${JSON.stringify(download.binary)}`);
    }
  }
  const counters = await stats(statsUrl);
  if (counters.runs_accepted !== runsAfter) fail(`${kind}: the emulator accepted ${counters.runs_accepted} Runs, expected ${runsAfter}`);
  const names = binaries.map((b) => `${b.fileName} (${b.mimeType})`).join(', ');
  console.log(`n8n-check: ok: catalog ${kind}: ${names} in the binary data; exactly 1 Run`);
}

const RUNNING = new Set(['task_start', 'task_output', 'task_output_full', 'task_error', 'task_error_full']);

async function until(statsUrl, seconds, what, test) {
  const deadline = Date.now() + seconds * 1000;
  for (;;) {
    const counters = await stats(statsUrl);
    const verdict = test(counters);
    if (verdict) return { counters, verdict };
    if (Date.now() > deadline) fail(`${what} did not happen within ${seconds} s: ${JSON.stringify(counters)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

async function running(statsUrl, seconds) {
  const { verdict } = await until(statsUrl, seconds, 'a running task followed by the Wait node', (c) => {
    const live = Object.entries(c.tasks || {}).find(([, status]) => RUNNING.has(status));
    return live && (c.requests.socket || 0) + (c.requests.detail || 0) > 0 ? live : null;
  });
  console.log(`n8n-check: task ${verdict[0]} is running (${verdict[1]}) and followed by the Wait node`);
}

async function killed(statsUrl, seconds) {
  const { counters } = await until(statsUrl, seconds, 'the task being stopped', (c) => c.cancelled >= 1);
  const statuses = Object.entries(counters.tasks || {});
  if (counters.runs_accepted !== 1 || counters.succeeded !== 0) {
    fail(`expected 1 Run and no success, got ${JSON.stringify(counters)}`);
  }
  if ((counters.requests.kill || 0) < 1) fail(`the task was not killed (no Task/Kill): ${JSON.stringify(counters)}`);
  if (!statuses.every(([, status]) => status === 'task_cancel')) {
    fail(`a task is not cancelled: ${JSON.stringify(counters.tasks)}`);
  }
  console.log(`n8n-check: ok: task ${statuses[0][0]} was killed (Task/Kill, status task_cancel); no success, 1 Run`);
}

const [command, ...args] = process.argv.slice(2);
const commands = {
  fixtures: () => fixtures(...args),
  success: () => success(args[0], args[1]),
  fanout: () => fanout(args[0], args[1], Number(args[2])),
  refused: () => refused(args[0], args[1], Number(args[2])),
  package: () => packageCheck(...args),
  catalog: () => catalog(args[0], args[1], Number(args[2]), args[3]),
  running: () => running(args[0], Number(args[1])),
  killed: () => killed(args[0], Number(args[1])),
};
if (!commands[command]) fail(`unknown command ${command}`);
Promise.resolve(commands[command]()).catch((error) => fail(error.stack || String(error)));
