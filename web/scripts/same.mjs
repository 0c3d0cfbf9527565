// `npm run api:check`: the committed API types equal a fresh generation from docs/openapi.json.
import { readFileSync, rmSync } from "node:fs";

const [committed, fresh] = process.argv.slice(2);
const same = readFileSync(committed, "utf8") === readFileSync(fresh, "utf8");
rmSync(fresh);
if (!same) {
  console.error(
    `${committed} 与 docs/openapi.json 不一致，请运行 npm run api / ` +
      `${committed} is out of date with docs/openapi.json: run npm run api`,
  );
  process.exit(1);
}
console.log(`${committed}: 与 docs/openapi.json 一致 / up to date`);
