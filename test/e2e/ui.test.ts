import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { generateKey, pushSignatureTag, signWithSbom, type RegistryTarget } from "../support/cosign";
import { seed, testImages, type TestImages } from "../support/images";
import { ok } from "../support/skopeo";
import { startSystem, type RunningSystem } from "../support/system";

/**
 * The web page (issue 12 §1) in a real browser: Debian's chromium driven by playwright-core, against the system as
 * `pnpm start` runs it with anonymous pulls limited to `public/*`. Images pushed with skopeo (an image and an
 * index), the index signed in cosign's format (tag and referrer, an SBOM and its signature: a nested tree) under a
 * signature policy added with `pnpm admin policy add`; a private repository only the robot may pull. Screenshots go
 * to test/output/ui/ (and, with UPDATE_DOCS_SCREENSHOT=1, the README's docs/page.png).
 */
const ROOT = path.resolve(__dirname, "../..");
const OUT = path.join(ROOT, "test/output/ui");
const CHROMIUM = "/usr/bin/chromium";
const FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"];

let sys: RunningSystem;
let work: string;
let images: TestImages;
let browser: Browser;
let page: Page;
let indexDigest: string;

function admin(...args: string[]): string {
  return execFileSync(process.execPath, [path.join(ROOT, "scripts/admin/cli.mjs"), ...args, "--registry", sys.registry], {
    env: { ...process.env, STATE_DIR: sys.stateDir },
    encoding: "utf8",
  });
}

const shot = (name: string) => page.screenshot({ path: path.join(OUT, `${name}.png`), fullPage: true });

beforeAll(async () => {
  mkdirSync(OUT, { recursive: true });
  work = mkdtempSync(path.join(tmpdir(), "ui-e2e-"));
  images = testImages(path.join(work, "layout"), "web page");
  // playwright gives the browser a fresh profile of its own (a temporary --user-data-dir).
  browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  sys = await startSystem({ ANONYMOUS_PULL: "public/*", REPLICA: "off" });
  await seed(images, sys.host, "public/app", sys.creds);
  await ok(["copy", "--dest-tls-verify=false", "--dest-creds", sys.creds, `oci:${images.layout.dir}:single`, `docker://${sys.host}/private/secret:1`]);
  indexDigest = images.multi.digest;
  const target: RegistryTarget = { baseUrl: sys.registry, fetch: (url, init) => sys.fetch(url, init) };
  const [trusted, untrusted] = [await generateKey(), await generateKey()];
  await signWithSbom(target, "public/app/multi", indexDigest, trusted);
  await pushSignatureTag(target, "public/app/single", images.single.digest, untrusted);
  writeFileSync(path.join(work, "trusted.pem"), trusted.pem);
  admin("policy", "add", "public/app/*", "--key", path.join(work, "trusted.pem"));
  const context = await browser.newContext({ viewport: { width: 1100, height: 800 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: sys.registry });
  page = await context.newPage();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await sys?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("the web page in chromium", () => {
  test("home: anonymous sees the public repositories, never the private one's name", async () => {
    await page.goto(`${sys.registry}/`);
    const list = page.locator("#repositories li");
    await expect.poll(() => list.allTextContents()).toEqual(["public/app/multi", "public/app/single"]);
    expect(await page.content()).not.toContain("private");
    await expect.poll(() => page.locator("#who").textContent()).toBe("Anonymous");
    await shot("home-anonymous");
  });

  test("search, keyboard only: the query is matched on the server", async () => {
    await page.getByRole("searchbox").focus();
    await page.keyboard.type("multi");
    await page.keyboard.press("Enter");
    await expect.poll(() => page.locator("#repositories li").allTextContents()).toEqual(["public/app/multi"]);
  });

  test("a repository page lists its tags with digest and size; an index shows its platforms", async () => {
    await page.getByRole("link", { name: "public/app/multi" }).click();
    const tags = page.locator("#tags tbody tr");
    await expect.poll(() => tags.count()).toBe(2);
    expect(await tags.first().textContent()).toContain("1");
    expect(await page.locator("#tags").textContent()).toContain(`${indexDigest.replace(":", "-")}.sig`);
    await shot("repository");
    await page.getByRole("link", { name: "1", exact: true }).click();
    await expect.poll(() => page.locator("#platforms .platform").allTextContents()).toEqual(["linux/amd64", "linux/arm64/v8"]);
  });

  test("the referrer tree: signatures verified under the policy, the SBOM's signature nested under it", async () => {
    const tree = page.locator("#referrers");
    await expect.poll(() => tree.locator(".signature").count()).toBe(3);
    expect(await tree.locator(".signature.bad").count()).toBe(0);
    expect(await tree.textContent()).toContain("application/spdx+json");
    expect(await tree.locator("li.referrer li.referrer .signature.ok").count()).toBe(1);
    await shot("image-index");
    // The README's screenshot, remade on request only (its digests and port change with every run).
    if (process.env.UPDATE_DOCS_SCREENSHOT === "1") await page.screenshot({ path: path.join(ROOT, "docs/page.png") });
  });

  test("copy the pull command by digest: the clipboard holds docker pull host/name@digest", async () => {
    const expected = `docker pull ${sys.host}/public/app/multi@${indexDigest}`;
    expect(await page.locator("#pull-digest").textContent()).toBe(expected);
    await page.getByRole("button", { name: "Copy by digest" }).click();
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(expected);
    expect(await page.locator("#pull-tag").textContent()).toBe(`docker pull ${sys.host}/public/app/multi:1`);
  });

  test("a signature by an untrusted key is marked not verified", async () => {
    await page.goto(`${sys.registry}/#/i/${encodeURIComponent("public/app/single")}/1`);
    await expect.poll(() => page.locator("#referrers .signature.bad").count()).toBe(1);
    expect(await page.locator("#layers tbody tr").count()).toBe(2);
  });

  test("the private repository: not found anonymously, shown after signing in, hidden again after signing out", async () => {
    await page.goto(`${sys.registry}/#/r/${encodeURIComponent("private/secret")}`);
    await expect.poll(() => page.locator("#main [role=alert]").textContent()).toContain("no such repository");
    await page.goto(`${sys.registry}/`);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByLabel("Name").fill(sys.robot.name);
    await page.getByLabel("Secret").fill(sys.robot.secret);
    await page.getByLabel("Secret").press("Enter");
    await expect.poll(() => page.locator("#who").textContent()).toBe(`Signed in as ${sys.robot.name}`);
    await expect.poll(() => page.locator("#repositories li").allTextContents()).toEqual(["private/secret", "public/app/multi", "public/app/single"]);
    await shot("home-signed-in");
    await page.getByRole("link", { name: "private/secret" }).click();
    await expect.poll(() => page.locator("#tags tbody tr").count()).toBe(1);
    await page.getByRole("button", { name: "Sign out" }).click();
    await expect.poll(() => page.locator("#main [role=alert]").textContent()).toContain("no such repository");
  });

  test("readable on a phone: no horizontal scrolling on a 390 px wide screen", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.goto(`${sys.registry}/#/r/${encodeURIComponent("public/app/multi")}`);
    await expect.poll(() => page.locator("#tags tbody tr").count()).toBe(2);
    expect(await page.evaluate("document.documentElement.scrollWidth")).toBeLessThanOrEqual(390);
    await shot("phone-repository");
  });
});
