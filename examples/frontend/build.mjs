// Builds the site into dist/ with Node's standard library only: every asset
// under src/ (except index.html) is copied to dist/assets/<name>.<hash>.<ext>,
// where <hash> is the first 8 hex digits of the content's SHA-256, and
// index.html's {{name.ext}} placeholders are replaced by the hashed paths.
// Hashed names let esteira upload assets with long cache lifetimes while
// index.html stays short-lived.
import { createHash } from "node:crypto";
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { extname, basename, join } from "node:path";

const src = new URL("./src/", import.meta.url).pathname;
const dist = new URL("./dist/", import.meta.url).pathname;

export function hashedName(name, content) {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 8);
  const ext = extname(name);
  return `${basename(name, ext)}.${hash}${ext}`;
}

async function build() {
  await rm(dist, { recursive: true, force: true });
  await mkdir(join(dist, "assets"), { recursive: true });

  const names = {};
  for (const name of (await readdir(src)).sort()) {
    if (name === "index.html") continue;
    const content = await readFile(join(src, name));
    const out = `assets/${hashedName(name, content)}`;
    await writeFile(join(dist, out), content);
    names[name] = out;
    console.log(`${name} -> ${out}`);
  }

  let html = await readFile(join(src, "index.html"), "utf8");
  html = html.replace(/\{\{([\w.-]+)\}\}/g, (placeholder, name) => {
    if (!(name in names)) throw new Error(`index.html references ${placeholder} but src/${name} does not exist`);
    return names[name];
  });
  await writeFile(join(dist, "index.html"), html);
  console.log(`index.html -> index.html (${Object.keys(names).length} assets)`);
}

if (process.argv[1] === new URL(import.meta.url).pathname) {
  build().catch((err) => {
    console.error(`build: ${err.message}`);
    process.exit(1);
  });
}
