// Helpers of scripts/ci/n8n.sh (JSON work without jq):
//   node n8n-check.js fixtures DIR FAST_ENV SLOW_ENV   writes credentials.json, workflows/{generate,cancel}.json
//   node n8n-check.js success RAW_OUTPUT STATS_URL      asserts the generate run and one Run
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

/** Manual Trigger → text-to-video → wait → download (the last one only when `download`). */
function workflow(id, name, credentialId, credentialName, prompt, download) {
  const credentials = { wiroNodesApi: { id: credentialId, name: credentialName } };
  const nodes = [
    {
      id: `${id}-trigger`,
      name: 'Start',
      type: 'n8n-nodes-base.manualTrigger',
      typeVersion: 1,
      position: [0, 0],
      parameters: {},
    },
    {
      id: `${id}-video`,
      name: 'Video',
      type: 'CUSTOM.wiroPixverseTextToVideoV4',
      typeVersion: 1,
      position: [220, 0],
      parameters: { prompt, quality: '360p', duration: 5 },
      credentials,
    },
    {
      id: `${id}-wait`,
      name: 'Wait',
      type: 'CUSTOM.wiroTaskWait',
      typeVersion: 1,
      position: [440, 0],
      parameters: { poll_seconds: 0.5, timeout_seconds: 600 },
      credentials,
    },
  ];
  const connections = {
    Start: { main: [[{ node: 'Video', type: 'main', index: 0 }]] },
    Video: { main: [[{ node: 'Wait', type: 'main', index: 0 }]] },
  };
  if (download) {
    nodes.push({
      id: `${id}-download`,
      name: 'Download',
      type: 'CUSTOM.wiroOutputDownload',
      typeVersion: 1,
      position: [660, 0],
      parameters: {},
      credentials,
    });
    connections.Wait = { main: [[{ node: 'Download', type: 'main', index: 0 }]] };
  }
  return { id, name, active: false, nodes, connections, settings: {}, pinData: {} };
}

function fixtures(dir, fastEnvFile, slowEnvFile) {
  const fast = readEnv(fastEnvFile);
  const slow = readEnv(slowEnvFile);
  const write = (file, value) => fs.writeFileSync(path.join(dir, file), JSON.stringify(value, null, 2));
  fs.mkdirSync(path.join(dir, 'workflows'), { recursive: true });
  write('credentials.json', [
    credential('wiroFastEmu01', 'Wiro emulator (fast)', fast),
    credential('wiroSlowEmu01', 'Wiro emulator (slow)', slow),
  ]);
  write(
    'workflows/generate.json',
    workflow('wiroE2eGen0001', 'wiro e2e generate', 'wiroFastEmu01', 'Wiro emulator (fast)',
      'A paper boat drifts down a rain-soaked street', true),
  );
  write(
    'workflows/cancel.json',
    workflow('wiroE2eCan0001', 'wiro e2e cancel', 'wiroSlowEmu01', 'Wiro emulator (slow)',
      'A lighthouse in a storm, to be cancelled', false),
  );
}

async function stats(url) {
  const answer = await fetch(url);
  if (!answer.ok) fail(`${url} answered ${answer.status}`);
  return answer.json();
}

/** `n8n execute --rawOutput` prints log lines, then the run data as pretty JSON. */
function runData(file) {
  const text = fs.readFileSync(file, 'utf8');
  for (let start = text.indexOf('{\n'); start !== -1; start = text.indexOf('{\n', start + 1)) {
    try {
      const data = JSON.parse(text.slice(start));
      if (data && data.data && data.data.resultData) return data;
    } catch (_) {
      // Not the start of the run data: keep looking.
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
  running: () => running(args[0], Number(args[1])),
  killed: () => killed(args[0], Number(args[1])),
};
if (!commands[command]) fail(`unknown command ${command}`);
Promise.resolve(commands[command]()).catch((error) => fail(error.stack || String(error)));
