// The editor's browser test, its model-catalog part (called by editor-browser-test.mjs with
// its page and helpers): the palette with hundreds of node types (models folded, a search that
// narrows them to a few), a file naming a node type the editor lacks, catalog models' forms
// (URL inputs, a list of URLs, labelled options, number limits, a switch, the price badge),
// and image-studio → wait → download and chat → wait → download runs to PNG and text files.

import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Right after the page opened: the palette's folding and search. */
export async function paletteSteps({ page, step, shot, text, waitText, drag, selectNode, selectByText, searchPalette, clearSearch, addFromPalette, settle, result }) {
  const total = Number((await text('[data-testid="palette-summary"]')).match(/^(\d+) node types$/)?.[1]);
  const models = Number(await text('[data-testid="palette-count-models"]'));
  const drawn = await page.$$eval(".palette-item", (items) => items.length);
  step(`palette: ${total} node types, ${models} models (folded), ${drawn} entries drawn`);
  if (!(models >= 300)) throw new Error(`the palette lists ${models} models, not the catalog's 300+`);
  if ((await page.$eval('[data-testid="palette-fold-models"]', (b) => b.getAttribute("aria-expanded"))) !== "false")
    throw new Error("hundreds of models do not start folded");
  if (drawn > 40) throw new Error(`the palette draws ${drawn} entries with the models folded`);
  result.paletteNodeTypes = total;

  step('search the palette for "studio image": words in any order');
  const typed = Date.now();
  await searchPalette("studio image");
  await page.waitForFunction(() => document.querySelector('[data-testid="palette-summary"]')?.dataset.query === "studio image");
  await waitText('[data-testid="palette-summary"]', /^[1-5] of \d+ match$/);
  result.searchMs = Date.now() - typed;
  const found = await page.$$eval(".palette-item", (items) => items.map((item) => item.dataset.testid));
  step(`${total} node types narrow to ${found.length} in ${result.searchMs} ms: ${found.join(", ")}`);
  if (found[0] !== "palette-wiro/image-studio") throw new Error(`the best match is ${found[0]}`);
  await shot("00-palette-search.png");
  await clearSearch();
  step("unfold the models: a page of entries is drawn, the rest behind 'show more'");
  await page.click('[data-testid="palette-fold-models"]');
  await page.waitForSelector('[data-testid="palette-more-models"]');
  const unfolded = await page.$$eval(".palette-item", (items) => items.length);
  if (unfolded > 100) throw new Error(`unfolding the models draws ${unfolded} entries`);
  await page.click('[data-testid="palette-fold-models"]');
  await page.waitForFunction(() => !document.querySelector('[data-testid="palette-more-models"]'));
}

/** At the end, on a page with a workflow open: the catalog models' forms and runs. */
export async function catalogSteps({ page, step, shot, text, waitText, drag, selectNode, selectByText, searchPalette, clearSearch, addFromPalette, settle, result }) {
  step("a file naming a node type this editor lacks opens with a notice naming it");
  const missing = join(mkdtempSync(join(tmpdir(), "wiro-editor-")), "missing.json");
  writeFileSync(missing, JSON.stringify({ version: 1, nodes: [{ id: "gone", type: "nobody/retired-model", inputs: {} }] }));
  await (await page.$('[data-testid="open-input"]')).uploadFile(missing);
  await waitText('[data-testid="notice"]', /cannot draw nobody\/retired-model/);
  await (await page.$('[data-testid="open-input"]')).uploadFile(process.env.EXAMPLE);
  await waitText('[data-testid="notice"]', /^opened image-to-video\.json$/);

  // The model catalog ---------------------------------------------------------------------
  const clearCanvas = async () => {
    const ids = await page.$$eval(".card", (cards) => cards.map((card) => card.dataset.testid.slice("node-".length)));
    for (const id of ids) {
      await selectNode(id);
      await page.click('[data-testid="delete-node"]');
    }
    await page.waitForFunction(() => document.querySelectorAll(".react-flow__node").length === 0);
  };
  const attributes = (selector) =>
    page.$eval(selector, (input) => ({ type: input.type, min: input.min, max: input.max, step: input.step }));
  const help = (id) => text(`#root_${id}__help`).catch(() => "");
  const setNumber = async (selector, value) => {
    await page.$eval(selector, (input) => input.select());
    await page.type(selector, String(value));
  };

  step("a catalog model's form: frames-to-video's first frame is a URL input");
  await clearCanvas();
  await addFromPalette("acme-labs/frames-to-video", "frames video");
  await selectNode("frames-to-video");
  const frame = await attributes("#root_firstFrame");
  if (frame.type !== "url") throw new Error(`firstFrame is a ${frame.type} input, not a URL input`);
  step("a file-urls input is a list of URL inputs: add one");
  await addFromPalette("synthetic-lab/model-0003");
  await selectNode("model-0003");
  await page.click('[data-testid="file-urls-add-root_combinefileinput3"]');
  const listed = await attributes("#root_combinefileinput3_0");
  if (listed.type !== "url") throw new Error(`a file-urls entry is a ${listed.type} input`);
  await clearCanvas();

  step("image-studio: labelled styles, size limits in the form, its price on the card");
  await addFromPalette("wiro/image-studio", "image studio");
  await selectNode("image-studio");
  const styleLabels = await page.$eval("#root_style", (select) => [...select.options].map((option) => option.textContent.trim()));
  if (!["None", "Photo", "Watercolour", "Pixel art"].every((label) => styleLabels.includes(label)))
    throw new Error(`the style options read ${styleLabels}`);
  const width = await attributes("#root_width");
  if (width.min !== "256" || width.max !== "1536" || width.step !== "64")
    throw new Error(`width takes ${JSON.stringify(width)}, not 256..1536 by 64`);
  if (!/from 256 to 1536, in steps of 64/.test(await help("width"))) throw new Error(`width's help reads ${await help("width")}`);
  if (!/from 1 to 4/.test(await help("numberOfOutputs"))) throw new Error("numberOfOutputs shows no limits");
  step(`styles ${styleLabels.join(" / ")}; width ${width.min}..${width.max} step ${width.step}`);
  await page.type("#root_prompt", "A lighthouse at dawn");
  await setNumber("#root_numberOfOutputs", 2);
  await setNumber("#root_width", 256);
  await setNumber("#root_height", 256);
  await selectByText("#root_style", "Watercolour");
  await addFromPalette("wiro/task.wait");
  await addFromPalette("wiro/output.download");
  await settle(3);
  await drag('[data-testid="out-image-studio-task"]', '[data-testid="in-wait-task"]');
  await drag('[data-testid="out-wait-outputs"]', '[data-testid="in-download-outputs"]');
  await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 2, { timeout: 5000 });
  await waitText('[data-testid="problem-count"]', /^valid$/);
  await waitText('[data-testid="node-image-studio"] [data-testid="price"]', /^\$0\.04$/);
  await selectNode("image-studio");
  await shot("05-catalog-model.png");
  const runToFiles = async (pattern, count, name) => {
    const started = Date.now();
    const before = await text(".run-summary strong");
    await page.click('[data-testid="run"]');
    await page.waitForFunction(
      (before) =>
        document.querySelector(".run-summary strong")?.textContent !== before &&
        /^(succeeded|failed|cancelled)$/.test(document.querySelector('[data-testid="run-outcome"]')?.textContent ?? ""),
      { timeout: 180000, polling: 200 },
      before,
    );
    const outcome = (await text('[data-testid="run-outcome"]')).trim();
    const names = await page.$$eval('[data-testid="output-link"]', (items) => items.map((item) => item.textContent));
    if (outcome !== "succeeded") {
      await shot(`failed-${name}.png`);
      throw new Error(`the ${name} run ${outcome}: ${await text('[data-testid="run-panel"]')}`);
    }
    const matching = names.filter((file) => pattern.test(file));
    if (matching.length !== count) throw new Error(`the ${name} run lists ${names}, not ${count} ${pattern} files`);
    result[`${name}RunSeconds`] = (Date.now() - started) / 1000;
    step(`the ${name} run finished in ${result[`${name}RunSeconds`].toFixed(1)} s: ${matching.join(", ")}`);
  };
  step("run image-studio → wait → download: 2 PNG files, shown in the page at the size asked");
  await runToFiles(/\.png$/i, 2, "imageStudio");
  const pictures = await page.waitForFunction(
    () => {
      const images = [...document.querySelectorAll('[data-testid="image"]')];
      return images.length === 2 && images.every((image) => image.complete && image.naturalWidth > 0)
        ? images.map((image) => `${image.naturalWidth}x${image.naturalHeight}`)
        : false;
    },
    { timeout: 10000, polling: 100 },
  );
  const sizes = await pictures.jsonValue();
  if (!sizes.every((size) => size === "256x256")) throw new Error(`the pictures are ${sizes}, not 256x256`);
  step(`the page shows both pictures: ${sizes.join(", ")}`);
  await shot("06-catalog-run.png");

  step("chat → wait → download: Enter in the search box adds the best match; a switch for stream");
  await clearCanvas();
  await searchPalette("chat");
  await page.keyboard.press("Enter");
  await page.waitForSelector('[data-testid="node-chat"]');
  await clearSearch();
  await selectNode("chat");
  const stream = await attributes("#root_stream");
  if (stream.type !== "checkbox") throw new Error(`stream is a ${stream.type} input, not a switch`);
  if (!/from 0 to 2/.test(await help("temperature"))) throw new Error("temperature shows no limits");
  await page.type("#root_prompt", "Say hello to the meadow");
  await addFromPalette("wiro/task.wait");
  await addFromPalette("wiro/output.download");
  await settle(3);
  await drag('[data-testid="out-chat-task"]', '[data-testid="in-wait-task"]');
  await drag('[data-testid="out-wait-outputs"]', '[data-testid="in-download-outputs"]');
  await page.waitForFunction(() => document.querySelectorAll(".react-flow__edge").length === 2, { timeout: 5000 });
  await waitText('[data-testid="problem-count"]', /^valid$/);
  await runToFiles(/\.txt$/i, 1, "chat");
}
