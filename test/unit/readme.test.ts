// The README's configuration reference, Pulumi.yaml's declarations and the validator must agree.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";
import { describe, it } from "node:test";
import { parse } from "yaml";
import { plainKeys } from "../../config/load";
import { requiredSecrets, secretKeys } from "../../config/types";
import { objectFields } from "../../config/validate";

const root = path.join(__dirname, "..", "..");
const readmeText = fs.readFileSync(path.join(root, "README.md"), "utf8");
const readme = readmeText.slice(readmeText.indexOf("## Configuration reference"), readmeText.indexOf("\n## ", readmeText.indexOf("## Configuration reference") + 1));
const declared = (parse(fs.readFileSync(path.join(root, "Pulumi.yaml"), "utf8")) as { config: Record<string, { secret?: boolean; default?: unknown }> }).config;
const tableKeys = (text: string) => [...text.matchAll(/^\| `([A-Za-z0-9.[\]]+)` \|/gm)].map(m => m[1]);

describe("configuration reference", () => {
    it("Pulumi.yaml declares exactly the keys the program reads", () => {
        assert.deepEqual(Object.keys(declared).sort(), [...plainKeys, ...secretKeys].sort());
    });
    it("declares the required secrets secret, and says of every optional one that it is secret", () => {
        // The CLI refuses secret: true with a (plain) default, so optional secrets are checked by the validator.
        assert.deepEqual(Object.keys(declared).filter(k => declared[k].secret).sort(), [...requiredSecrets].sort());
        for (const k of secretKeys.filter(k => !requiredSecrets.includes(k))) {
            assert.match((declared[k] as { description?: string }).description ?? "", /^Secret \(pulumi config set --secret/, k);
        }
    });
    it("the README documents every declared key, and no other", () => {
        const documented = tableKeys(readme).filter(k => !k.includes(".") && !k.includes("["));
        assert.deepEqual(documented.sort(), Object.keys(declared).sort());
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
