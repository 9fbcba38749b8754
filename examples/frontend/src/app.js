// Asks the backend for its health and shows the answer.
const status = document.getElementById("status");
fetch("/api/healthz")
  .then((res) => (res.ok ? res.text() : Promise.reject(new Error(`HTTP ${res.status}`))))
  .then((body) => { status.textContent = body.trim(); })
  .catch((err) => { status.textContent = `unreachable (${err.message})`; });
