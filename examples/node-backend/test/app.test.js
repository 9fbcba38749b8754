import { test } from "node:test";
import assert from "node:assert/strict";
import { boletoDigit, health } from "../app.js";

test("health says ok", () => {
  assert.equal(health().status, "ok");
});

test("boleto check digit, modulo 10", () => {
  assert.equal(boletoDigit("123"), 0); // 3*2 + 2*1 + 1*2 = 10
  assert.equal(boletoDigit("5"), 9); // 5*2 = 10 -> 1 + 0 = 1
  assert.equal(boletoDigit("0000000000"), 0);
});
