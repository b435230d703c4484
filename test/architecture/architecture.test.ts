import { readdirSync, readFileSync, statSync } from "node:fs";
import path from "node:path";
import { describe, expect, test } from "vitest";

/**
 * The dependency rules of the monorepo, from one file (architecture.json at the root): for every package, which
 * packages its sources may import. A package's `src` may import only those (and its own files), never reach into
 * another package by a relative path, and its package.json must declare exactly the packages it may use.
 */

const ROOT = path.resolve(__dirname, "../..");
const rules = JSON.parse(readFileSync(path.join(ROOT, "architecture.json"), "utf8")) as Record<string, string[] | string>;
const packages = Object.entries(rules).filter((e): e is [string, string[]] => Array.isArray(e[1]));

/** Every .ts file below `dir`. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return full.endsWith(".ts") ? [full] : [];
  });
}

/** Import and export specifiers of a file: static `from "x"`, side-effect `import "x"` and dynamic `import("x")`. */
function specifiers(text: string): string[] {
  const found = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)["']([^"']+)["']/g)].map((m) => m[1]!);
  return [...new Set(found)];
}

/** The package a specifier names: `@scope/name`, `name`, or `cloudflare:workers`. */
function packageOf(spec: string): string {
  if (spec.includes(":")) return spec;
  const parts = spec.split("/");
  return spec.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0]!;
}

test("every package of the repository has a rule", () => {
  const present = ["packages", "workers"].flatMap((top) =>
    readdirSync(path.join(ROOT, top))
      .filter((name) => statSync(path.join(ROOT, top, name, "src")).isDirectory())
      .map((name) => `${top}/${name}`),
  );
  expect(packages.map(([dir]) => dir).sort()).toEqual(present.sort());
});

describe.each(packages)("%s", (dir, allowed) => {
  const src = path.join(ROOT, dir, "src");
  const files = sources(src);

  test("imports only what architecture.json allows, and nothing outside itself by path", () => {
    const wrong: string[] = [];
    for (const file of files) {
      for (const spec of specifiers(readFileSync(file, "utf8"))) {
        const where = path.relative(ROOT, file);
        if (spec.startsWith(".")) {
          const target = path.resolve(path.dirname(file), spec);
          if (!target.startsWith(path.join(ROOT, dir) + path.sep)) wrong.push(`${where}: ${spec} leaves the package`);
        } else if (!allowed.includes(packageOf(spec))) {
          wrong.push(`${where}: ${spec}`);
        }
      }
    }
    expect(wrong).toEqual([]);
  });

  test("package.json declares exactly its allowed packages", () => {
    const manifest = JSON.parse(readFileSync(path.join(ROOT, dir, "package.json"), "utf8")) as { dependencies?: Record<string, string> };
    const declared = Object.keys(manifest.dependencies ?? {}).sort();
    expect(declared).toEqual(allowed.filter((p) => !p.includes(":")).sort());
  });
});
