// The README's configuration reference and the validator must agree; Pulumi.yaml declares no config.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { secretKeys } from "../../config/types";
import { objectFields, plainKeys } from "../../config/validate";

const root = path.join(__dirname, "..", "..");
const readmeText = fs.readFileSync(path.join(root, "README.md"), "utf8");
const readme = readmeText.slice(readmeText.indexOf("## Configuration reference"), readmeText.indexOf("\n## ", readmeText.indexOf("## Configuration reference") + 1));
const project = parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config?: unknown };
const tableKeys = (text: string) => [...text.matchAll(/^\| `([A-Za-z0-9.[\]]+)` \|/gm)].map(m => m[1]);

describe("configuration reference", () => {
    it("Pulumi.yaml declares no config: the CLI would stop at the first type error, before the validator lists them all", () => {
        assert.equal(project.config, undefined);
    });
    it("the README documents every key the program reads, and no other", () => {
        const documented = tableKeys(readme).filter(k => !k.includes(".") && !k.includes("["));
        assert.deepEqual(documented.sort(), [...plainKeys, ...secretKeys].sort());
    });
    it("the README documents every object setting the validator accepts", () => {
        const documented = new Set(tableKeys(readme));
        for (const [key, fields] of Object.entries(objectFields)) {
            for (const f of fields) {
                const name = key === "nodes" ? `nodes[].${f}` : `${key}.${f}`;
                assert.ok(documented.has(name), `README lacks ${name}`);
            }
        }
    });
});
