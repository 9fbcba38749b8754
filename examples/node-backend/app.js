// The backend's logic, kept apart from the server so the tests call it directly.
export function health() {
  return { status: "ok", version: process.env.APP_VERSION ?? "dev" };
}

// boletoDigit is the modulo-10 check digit of a Brazilian boleto field.
export function boletoDigit(field) {
  let sum = 0;
  let weight = 2;
  for (const ch of [...field].reverse()) {
    let n = Number(ch) * weight;
    if (n > 9) n = Math.floor(n / 10) + (n % 10);
    sum += n;
    weight = weight === 2 ? 1 : 2;
  }
  const digit = (10 - (sum % 10)) % 10;
  return digit;
}
