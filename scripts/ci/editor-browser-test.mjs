// The editor in real headless Chromium, driven by UI actions only (puppeteer-core):
// build upload → image-to-video → wait → download, see a refused edge, see a cross-field rule
// on the form and fix it, run to a playing video, cancel a second run and see its task
// killed, save the workflow. Then a table of rows: a refused row named, a 3-row CSV run to 3
// files and a results.csv (editor-browser-rows.mjs). Then the model catalog (hundreds of node types): the palette's
// search narrows them to a few, a catalog model's form shows its option labels, limits, URL
// inputs and switches, and image-studio → wait → download and chat → wait → download run to
// PNG and text files (those steps are in editor-browser-catalog.mjs). Called by
// scripts/ci/editor.sh, which checks the rest.
//
// Arguments come from the environment: EDITOR_URL, CHROMIUM, PUPPETEER_DIR, MEADOW (an image
// path), ARTIFACTS (screenshot folder), SECRETS (strings the page must never see, ':'-joined).

import { createRequire } from "node:module";
import { mkdtempSync, mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { catalogSteps, paletteSteps } from "./editor-browser-catalog.mjs";
import { rowsSteps } from "./editor-browser-rows.mjs";

const require = createRequire(join(process.env.PUPPETEER_DIR, "package.json"));
const puppeteer = require("puppeteer-core");

const url = process.env.EDITOR_URL;
const artifacts = process.env.ARTIFACTS;
mkdirSync(artifacts, { recursive: true });
const secrets = (process.env.SECRETS ?? "").split(":").filter(Boolean);
const step = (text) => console.log(`[browser] ${text}`);
const result = {};

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM,
  headless: true,
  userDataDir: mkdtempSync(join(tmpdir(), "wiro-editor-chromium-")),
  args: [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
  ],
  defaultViewport: { width: 1600, height: 1000 },
});

const page = await browser.newPage();
try {
  const problems = [];
  page.on("pageerror", (error) => problems.push(`page error: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  const shot = async (name) => {
    await page.$eval(".palette", (palette) => palette.scrollTo(0, 0));
    await page.screenshot({ path: join(artifacts, name) });
    step(`screenshot ${name}`);
  };
  const text = (selector) => page.$eval(selector, (element) => element.textContent ?? "");
  const waitText = (selector, pattern, timeout = 30000) =>
    page.waitForFunction(
      (selector, source) => new RegExp(source).test(document.querySelector(selector)?.textContent ?? ""),
      { timeout, polling: 100 },
      selector,
      pattern.source,
    );
  const center = async (selector) => {
    const box = await (await page.waitForSelector(selector)).boundingBox();
    return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  };
  const drag = async (from, to) => {
    const a = await center(from);
    const b = await center(to);
    await page.mouse.move(a.x, a.y);
    await page.mouse.down();
    await page.mouse.move((a.x + b.x) / 2, (a.y + b.y) / 2, { steps: 8 });
    await page.mouse.move(b.x, b.y, { steps: 8 });
    await page.mouse.up();
  };
  const edgeCount = () => page.$$eval(".react-flow__edge", (edges) => edges.length);
  const selectNode = async (id) => {
    await page.click(`[data-testid="node-${id}"] .card-title`);
    await page.waitForFunction((id) => document.querySelector('[data-testid="node-id"]')?.value === id, {}, id);
  };
  const searchPalette = async (query) => {
    await page.$eval('[data-testid="palette-search"]', (input) => input.select());
    await page.type('[data-testid="palette-search"]', query);
  };
  const clearSearch = async () => {
    if (await page.$('[data-testid="palette-search-clear"]')) await page.click('[data-testid="palette-search-clear"]');
    await waitText('[data-testid="palette-summary"]', /node types$/);
  };
  // Models start folded: a node type is found with the search box, as a person would.
  const addFromPalette = async (type, query = type) => {
    await searchPalette(query);
    await page.waitForFunction((query) => document.querySelector('[data-testid="palette-summary"]')?.dataset.query === query, {}, query);
    await page.click(`[data-testid="palette-${type}"]`);
    await clearSearch();
  };
  // Waits until `count` nodes are measured, inside the canvas, and the view has stopped moving
  // (two polls with the same transform): handles are read from the screen.
  const settle = (count) =>
    page.waitForFunction(
      (count) => {
        const canvas = document.querySelector(".canvas").getBoundingClientRect();
        const nodes = [...document.querySelectorAll(".react-flow__node")];
        const inside = nodes.length === count && nodes.every((node) => {
          const box = node.getBoundingClientRect();
          return box.width > 0 && box.left >= canvas.left && box.right <= canvas.right && getComputedStyle(node).visibility === "visible";
        });
        const transform = document.querySelector(".react-flow__viewport").style.transform;
        const still = window.__lastTransform === transform;
        window.__lastTransform = transform;
        return inside && still;
      },
      { polling: 100, timeout: 10000 },
      count,
    );
  const selectByText = async (selector, label) => {
    const value = await page.$eval(
      selector,
      (select, label) => [...select.options].find((option) => option.textContent.trim() === label)?.value,
      label,
    );
    if (value === undefined) throw new Error(`${selector} has no option ${label}`);
    await page.select(selector, value);
  };

  step(`open ${url.replace(/token=.*/, "token=…")}`);
  await page.goto(url, { waitUntil: "networkidle0" });
  await page.waitForSelector('[data-testid="palette-wiro/file.upload"]');
  // An error the browser logs for a call the test expected to be refused is not the page's.
  const forgive = (pattern) => {
    const kept = problems.filter((problem) => !pattern.test(problem));
    problems.length = 0;
    problems.push(...kept);
  };
  const helpers = { page, step, shot, text, waitText, drag, selectNode, selectByText, searchPalette, clearSearch, addFromPalette, settle, forgive, result };
  await paletteSteps(helpers);

  // The API refuses calls without the token, even from the page's own origin.
  const without = await page.evaluate(async () => (await fetch("/api/nodes")).status);
  if (without !== 401) throw new Error(`an API call without the token answered ${without}, not 401`);
  problems.length = 0; // the console reported that refused call

  step("add upload, image-to-video, wait, download from the palette");
  for (const type of ["wiro/file.upload", "pixverse/image-to-video-v4", "wiro/task.wait", "wiro/output.download"]) {
    await addFromPalette(type);
  }
  await page.waitForSelector('[data-testid="node-download"]');
  await settle(4);

  step("a string output dropped on a TaskHandle input is refused");
  await drag('[data-testid="out-upload-url"]', '[data-testid="in-wait-task"]');
  await waitText('[data-testid="notice"]', /refused: upload\.url gives string, but wait\.task takes TaskHandle/);
  if ((await edgeCount()) !== 0) throw new Error("the refused edge was drawn");

  step("connect upload.url → inputImageUrl, task → wait, outputs → download");
  await drag('[data-testid="out-upload-url"]', '[data-testid="in-image-to-video-v4-inputImageUrl"]');
  await drag('[data-testid="out-image-to-video-v4-task"]', '[data-testid="in-wait-task"]');
  await drag('[data-testid="out-wait-outputs"]', '[data-testid="in-download-outputs"]');
  await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 3, { timeout: 5000 });

  step("an edge can take a field inside an output: upload.file.url; upload.file is refused");
  await page.click('.react-flow__edge[data-id="image-to-video-v4.inputImageUrl"] .react-flow__edge-interaction');
  await page.waitForSelector('[data-testid="edge-reference"]');
  const setReference = async (reference) => {
    await page.$eval('[data-testid="edge-reference"]', (input) => input.select());
    await page.type('[data-testid="edge-reference"]', reference);
    await page.click('[data-testid="edge-apply"]');
  };
  await setReference("upload.file");
  await waitText('[data-testid="notice"]', /refused: upload\.file gives UploadedFile, but inputImageUrl takes string/);
  await setReference("upload.file.url");
  await waitText('[data-testid="notice"]', /now takes upload\.file\.url \(string\)/);

  step("choose meadow.png in the upload node's form");
  await selectNode("upload");
  const fileInput = await page.waitForSelector('[data-testid="local-file-input"]');
  await fileInput.uploadFile(process.env.MEADOW);
  await page.waitForFunction(() => document.querySelector("#root_path")?.value === "uploads/meadow.png");

  step("fill the video form: prompt, then 1080p and 8 s");
  await selectNode("image-to-video-v4");
  await page.waitForSelector('[data-testid="linked-inputImageUrl"]');
  await page.type("#root_prompt", "Clouds drift over the meadow");
  const styles = await page.$eval("#root_style", (select) => [...select.options].map((option) => option.textContent));
  if (!styles.includes("none") || styles.includes("null")) throw new Error(`the style choices read ${styles}`);
  await selectByText("#root_quality", "1080p");
  await selectByText("#root_duration", "8");
  await waitText('[data-testid="inspector"]', /1080p cannot be 8 s/);
  await waitText('[data-testid="problem-count"]', /problem/);
  await shot("02-rule-error.png");
  step("the form says: 1080p cannot be 8 s; choose 5 s");
  await selectByText("#root_duration", "5");
  await page.waitForFunction(() => !/1080p cannot be 8 s/.test(document.querySelector('[data-testid="inspector"]').textContent));
  await waitText('[data-testid="problem-count"]', /^valid$/);
    await selectByText("#root_quality", "540p");
  await waitText('[data-testid="problem-count"]', /^valid$/);
  step("the price before paying: the paid card and the toolbar show the 540p 5 s estimate");
  await waitText('[data-testid="price"]', /^\$0\.45$/);
  await waitText('[data-testid="estimate"]', /estimate \$0\.45/);
  await page.click(".react-flow__pane");
  await shot("01-graph.png");

  step("run on the emulator");
  const started = Date.now();
  await page.click('[data-testid="run"]');
  await waitText('[data-testid="run-outcome"]', /^succeeded$/, 180000);
  await page.waitForSelector('[data-testid="video"]');
  const duration = await page.waitForFunction(
    () => {
      const video = document.querySelector('[data-testid="video"]');
      return video && video.readyState >= 1 && Number.isFinite(video.duration) ? video.duration : false;
    },
    { timeout: 30000, polling: 100 },
  );
  result.videoSeconds = await duration.jsonValue();
  result.firstRunSeconds = (Date.now() - started) / 1000;
  step(`the video plays in the page: ${result.videoSeconds.toFixed(2)} s (run took ${result.firstRunSeconds.toFixed(1)} s)`);
  if (Math.abs(result.videoSeconds - 5) > 0.6) throw new Error(`the video lasts ${result.videoSeconds} s, not ~5 s`);
  const links = await page.$$eval('[data-testid="output-link"]', (items) => items.map((item) => item.textContent));
  if (!links.includes("download-0.mp4")) throw new Error(`the outputs list shows ${links}`);
  await selectNode("image-to-video-v4");
  await shot("03-finished.png");
  // The README's picture (docs/editor.png) is this one, scaled down.
  await page.screenshot({ path: join(artifacts, "readme.png"), clip: { x: 0, y: 0, width: 1600, height: 1000, scale: 0.7 } });

  step("second run with a new prompt; cancel it while its task runs");
  await page.click("#root_prompt");
  await page.keyboard.press("End");
  await page.type("#root_prompt", " at dusk");
  await waitText('[data-testid="problem-count"]', /^valid$/);
  await page.click(".react-flow__pane");
  await page.click('[data-testid="run"]');
  await waitText('[data-testid="run-wait"]', /task_start|task_output/, 120000);
  const taskid = (await text('[data-testid="run-image-to-video-v4"] td:nth-child(4)')).trim();
  await page.click('[data-testid="cancel"]');
  await waitText('[data-testid="run-outcome"]', /^cancelled$/, 60000);
  await waitText('[data-testid="run-panel"]', new RegExp(`task ${taskid} killed`), 10000);
  result.cancelledTask = taskid;
  step(`the page says: task ${taskid} killed`);
  await shot("04-cancelled.png");

  step("save the workflow as saved.json");
  await page.$eval('[data-testid="save-name"]', (input) => {
    input.select();
  });
  await page.type('[data-testid="save-name"]', "saved.json");
  await page.click('[data-testid="save"]');
  await waitText('[data-testid="notice"]', /saved .*saved\.json/);
  // A round trip: open a file, look at every node's form (which shows the schema defaults),
  // save; nothing the file did not say is added, nothing it said is changed.
  const roundTrip = async (path, name, saveAs) => {
    const openInput = await page.$('[data-testid="open-input"]');
    await openInput.uploadFile(path);
    await waitText('[data-testid="notice"]', new RegExp(`opened ${name.replace(".", "\\.")}`));
    const ids = await page.$$eval(".card", (cards) => cards.map((card) => card.dataset.testid.slice("node-".length)));
    for (const id of ids) await selectNode(id);
    await page.$eval('[data-testid="save-name"]', (input) => input.select());
    await page.type('[data-testid="save-name"]', saveAs);
    await page.click('[data-testid="save"]');
    await waitText('[data-testid="notice"]', new RegExp(`saved .*${saveAs.replace(".", "\\.")}`));
  };
  step("open saved.json, visit every form, save as reopened.json");
  await roundTrip(process.env.SAVED_PATH, "saved.json", "reopened.json");
  step("open examples/image-to-video.json, visit every form, save as example.json");
  await roundTrip(process.env.EXAMPLE, "image-to-video.json", "example.json");

  await rowsSteps(helpers);

  await catalogSteps(helpers);

  const seen = await page.evaluate(async (token) => {
    const headers = { "x-wiro-editor-token": token };
    const parts = [document.documentElement.outerHTML];
    for (const path of ["/api/session", "/api/nodes"]) parts.push(await (await fetch(path, { headers })).text());
    return parts.join("\n");
  }, new URL(url).hash.slice("#token=".length));
  for (const secret of secrets) if (seen.includes(secret)) throw new Error("a credential reached the page");

  if (problems.length) throw new Error(`the page reported errors:\n${problems.join("\n")}`);
  writeFileSync(join(artifacts, "result.json"), JSON.stringify(result, null, 2));
  step("passed");
} catch (error) {
  await page.screenshot({ path: join(artifacts, "failure.png") }).catch(() => undefined);
  const notice = await page.$eval('[data-testid="notice"]', (e) => e.textContent).catch(() => "(none)");
  console.error(`[browser] FAILED; the page's last notice: ${notice}; see ${join(artifacts, "failure.png")}`);
  throw error;
} finally {
  await browser.close();
}
