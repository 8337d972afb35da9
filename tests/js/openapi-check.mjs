// openapi-check.mjs FILE — validates an OpenAPI document with @seriousme/openapi-schema-validator
// (the specification's own JSON schemas); prints each error and exits 1 when it is not valid.
import { readFileSync } from "node:fs";
import { Validator } from "@seriousme/openapi-schema-validator";

const validator = new Validator();
const document = JSON.parse(readFileSync(process.argv[2], "utf8"));
const result = await validator.validate(document);
if (!result.valid) {
  console.log(JSON.stringify(result.errors, null, 1).slice(0, 4000));
  process.exit(1);
}
console.log(`valid OpenAPI ${validator.version}`);
