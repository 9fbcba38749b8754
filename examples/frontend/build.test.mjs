import { test } from "node:test";
import assert from "node:assert/strict";
import { hashedName } from "./build.mjs";

test("hashedName changes when the content changes", () => {
  const a = hashedName("app.js", "one");
  const b = hashedName("app.js", "two");
  assert.match(a, /^app\.[0-9a-f]{8}\.js$/);
  assert.notEqual(a, b);
  assert.equal(a, hashedName("app.js", "one"));
});
