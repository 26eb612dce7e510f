// The editor's browser test, its rows part (called by editor-browser-test.mjs with its page and
// helpers): a text-to-video flow over a table of inputs. A pasted table with an impossible row
// is refused before anything runs, naming the row and the column as the CLI does; a 3-row CSV
// chosen with the file picker shows its total price, is refused under a smaller max cost, runs,
// and ends with 3 rows done, 3 files
// and a results.csv to download.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const FLOW = {
  version: 1,
  nodes: [
    { id: "video", type: "pixverse/text-to-video-v4", inputs: { prompt: "a paper boat", quality: "360p", duration: 5 } },
    { id: "wait", type: "wiro/task.wait", inputs: { task: { $from: "video.task" } } },
    { id: "save", type: "wiro/output.download", inputs: { outputs: { $from: "wait.outputs" } } },
  ],
};

/** Three rows as a spreadsheet exports them: a BOM, a quoted comma, UTF-8. */
const TABLE = '\ufeffvideo.prompt,video.seed\r\n"a fox, running",1\r\nÇa va — naïve,2\r\nthe sea at dusk,3\r\n';

export async function rowsSteps({ page, step, shot, text, waitText, forgive, result }) {
  const folder = mkdtempSync(join(tmpdir(), "wiro-editor-rows-"));
  writeFileSync(join(folder, "rows-flow.json"), JSON.stringify(FLOW, null, 2));
  writeFileSync(join(folder, "products.csv"), TABLE);

  step("open a text-to-video flow and the rows panel");
  await (await page.$('[data-testid="open-input"]')).uploadFile(join(folder, "rows-flow.json"));
  await waitText('[data-testid="notice"]', /^opened rows-flow\.json$/);
  await waitText('[data-testid="problem-count"]', /^valid$/);
  await page.click('[data-testid="rows-toggle"]');
  await page.waitForSelector('[data-testid="rows-panel"]');

  step("paste a table whose row 3 asks for 4k: refused before anything runs, naming row and column");
  await page.click('[data-testid="table-paste-toggle"]');
  await page.type('[data-testid="table-paste"]', 'video.prompt,video.quality\nfox,360p\n"fox, again",4k\n');
  await page.click('[data-testid="table-paste-use"]');
  await waitText('[data-testid="row-3"]', /row 3, column video\.quality: /);
  await waitText('[data-testid="table-refused"]', /the table cannot run; nothing was sent \(1 of 2 rows refused\)/);
  const refusal = await text('[data-testid="row-3"] [data-testid="row-problem"]');
  await page.waitForFunction(() => document.querySelector('[data-testid="run"]').disabled, { timeout: 5000 });
  step(`the page says: ${refusal}`);
  await shot("04b-rows-refused.png");

  step("choose products.csv (3 rows): its total price, then run it");
  await (await page.$('[data-testid="table-input"]')).uploadFile(join(folder, "products.csv"));
  await waitText('[data-testid="table-rows"]', /^3 rows$/);
  await waitText('[data-testid="table-total"]', /total \$1\.35/);
  await waitText('[data-testid="row-3"]', /Ça va — naïve/);
  await waitText('[data-testid="run"]', /^Run 3 rows$/);
  step("a max cost that is no amount (\"1,5\") refuses the run in the page, never read as no cap");
  await page.type('[data-testid="max-cost"]', "1,5");
  await page.click('[data-testid="run"]');
  await waitText('[data-testid="notice"]', /max \$ "1,5" is not an amount in dollars \(such as 12\.50\); nothing was sent/);
  await page.$eval('[data-testid="max-cost"]', (input) => input.select());
  await page.keyboard.press("Backspace");
  step("a max cost of $1 under the $1.35 total refuses the run; cleared, it runs");
  await page.type('[data-testid="max-cost"]', "1");
  await page.click('[data-testid="run"]');
  await waitText('[data-testid="notice"]', /the estimated price \$1\.35 exceeds the max cost \$1\.00; .*nothing was sent but the price look-ups/);
  forgive(/status of 422/);
  await page.$eval('[data-testid="max-cost"]', (input) => input.select());
  await page.keyboard.press("Backspace");
  await page.waitForFunction(() => document.querySelector('[data-testid="max-cost"]').value === "");
  const started = Date.now();
  await page.click('[data-testid="run"]');
  await waitText('[data-testid="row-2"] [data-testid="row-status"]', /running|done/, 60000);
  await waitText('[data-testid="rows-done"]', /^3 of 3 done$/, 180000);
  await page.waitForSelector('[data-testid="results-link"]', { timeout: 30000 });
  result.rowsRunSeconds = (Date.now() - started) / 1000;
  const statuses = await page.$$eval('[data-testid="row-status"]', (cells) => cells.map((cell) => cell.textContent.trim()));
  if (statuses.length !== 3 || statuses.some((status) => status !== "done")) throw new Error(`the rows read ${statuses}`);
  const files = await page.$$eval('[data-testid="row-file"]', (links) => links.map((link) => link.textContent.trim()));
  if (files.length !== 3 || !files.every((name, i) => name.startsWith(`row-000${i + 2}/`) && name.endsWith(".mp4")))
    throw new Error(`the rows' files read ${files}`);
  step(`3 rows done in ${result.rowsRunSeconds.toFixed(1)} s: ${files.join(", ")}`);

  step("download results.csv from the panel's link");
  const csv = await page.$eval('[data-testid="results-link"]', async (link) => (await fetch(link.href)).text());
  const lines = csv.trim().split("\n");
  if (lines[0] !== "row,outcome,tasks,cost,files,error" || lines.length !== 4 || !lines.slice(1).every((line) => /^\d+,done,/.test(line)))
    throw new Error(`results.csv reads:\n${csv}`);
  result.rowsResults = csv;
  await shot("04c-rows-done.png");

  await page.click('[data-testid="rows-toggle"]');
  await page.waitForSelector('[data-testid="run-panel"]');
}
