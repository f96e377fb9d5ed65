// The chat page in two real browsers (Debian's chromium driven by playwright-core),
// against roomd started with the repository's own config.toml: /chat runs
// auth → profanity → presence, /online feeds the who-is-online panel.

import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir, readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, test } from "node:test";

import { chromium } from "playwright-core";

import { REPO, closeAll, startServer } from "./support.js";

afterEach(closeAll);

const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const ARTIFACTS = path.join(REPO, "tests/js/artifacts");
// Flags for a closed network: no background traffic, no sandbox as root.
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

/** The repository's config.toml with its relative paths made absolute. */
async function repoConfig() {
  const text = await readFile(path.join(REPO, "config.toml"), "utf8");
  return text
    .replaceAll('path = "plugins/dist/', `path = "${REPO}/plugins/dist/`)
    .replace('static_dir = "host/web"', `static_dir = "${REPO}/host/web"`);
}

async function login(browser, url, name) {
  const page = await (await browser.newContext()).newPage();
  await page.goto(url);
  await page.fill("#name", name);
  await page.click("#login button");
  await page.waitForSelector("#app:not([hidden])");
  await page.waitForFunction(() => document.querySelector("#current").textContent === "# lobby");
  return page;
}

const text = (page, selector) => page.locator(selector).innerText();

test("two people chat in real browsers: presence, messages, masking, leaving", { timeout: 60_000 }, async () => {
  assert.ok(existsSync(CHROMIUM), `Debian's chromium is needed at ${CHROMIUM} (\`make browser\` installs it)`);
  const { url } = await startServer(await repoConfig());
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  try {
    const alice = await login(browser, url, "alice");
    const bob = await login(browser, url, "bob");

    for (const page of [alice, bob]) {
      await page.fill("#room", "room-1");
      await page.click("#join button");
      await page.waitForFunction(() => document.querySelector("#current").textContent === "# room-1");
    }
    // Each sees the other in the room, and both in the who-is-online panel (/online).
    await alice.waitForFunction(() => document.querySelector("#present").textContent.includes("bob"));
    await bob.waitForFunction(() => document.querySelector("#present").textContent.includes("alice"));
    await alice.waitForFunction(() => document.querySelector("#online-count").textContent === "(2)");
    assert.match(await text(alice, "#online"), /alice\s+bob/);

    const lastMessage = (page) => page.locator("#messages li").last().innerText();
    await alice.fill("#text", "hello bob");
    await alice.click("#composer button");
    await bob.waitForFunction(() => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.includes("hello bob")));
    assert.match(await lastMessage(bob), /^alice\s*hello bob$/);

    await alice.fill("#text", "this is fucking great");
    await alice.click("#composer button");
    await bob.waitForFunction(() => [...document.querySelectorAll("#messages li")].some((li) => li.textContent.includes("great")));
    const masked = await lastMessage(bob);
    assert.ok(!masked.includes("fucking") && masked.includes("*"), `bob sees a masked word: ${masked}`);

    await bob.fill("#text", "see you");
    await bob.click("#composer button");
    await alice.waitForFunction(() => document.querySelector("#messages").textContent.includes("see you"));

    await mkdir(ARTIFACTS, { recursive: true });
    await bob.screenshot({ path: path.join(ARTIFACTS, "chat-bob.png") });

    // Bob closes his browser; Alice sees him leave the room and go offline.
    await bob.context().close();
    await alice.waitForFunction(() => document.querySelector("#messages").textContent.includes("bob left"));
    await alice.waitForFunction(() => !document.querySelector("#present").textContent.includes("bob"));
    await alice.waitForFunction(() => document.querySelector("#online-count").textContent === "(1)");
    await alice.screenshot({ path: path.join(ARTIFACTS, "chat-alice.png") });
  } finally {
    await browser.close();
  }
});
