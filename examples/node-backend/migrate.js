// The migration the release runs as a one-off task before the rollout
// (esteira.yaml: migrate: [node, migrate.js]). A real one would apply SQL
// files to DATABASE_URL; this one says what it would do and exits 0.
const pending = ["001_create_boletos.sql", "002_add_due_date.sql"];
for (const m of pending) console.log(`migrate: applied ${m}`);
console.log(`migrate: ${pending.length} migrations applied`);
