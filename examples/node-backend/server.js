import { createServer } from "node:http";
import { health } from "./app.js";

const port = Number(process.env.PORT ?? 8080);
createServer((req, res) => {
  res.setHeader("content-type", "application/json");
  res.end(JSON.stringify(req.url === "/health" ? health() : { error: "not found" }));
}).listen(port, () => console.log(`listening on ${port}`));
