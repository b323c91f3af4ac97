// Golden files: rendered output compared byte for byte; UPDATE_GOLDEN=1 rewrites them after review.
import assert from "node:assert/strict";
import * as fs from "fs";
import * as path from "path";

const dir = path.join(__dirname, "golden");

export function assertGolden(name: string, actual: string): void {
    const file = path.join(dir, name);
    if (process.env.UPDATE_GOLDEN === "1") {
        fs.writeFileSync(file, actual);
        return;
    }
    assert.ok(fs.existsSync(file), `golden file ${name} is missing (run with UPDATE_GOLDEN=1 and review it)`);
    assert.equal(actual, fs.readFileSync(file, "utf8"), `${name} differs from its golden file`);
}
