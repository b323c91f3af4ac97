// Loads test/unit/*.test.ts into this process: the Pulumi SDK, tsx and the mocks load once per
// process. Each file describes its own stacks inside its suites, which run one after another.
import * as fs from "fs";
import * as path from "path";

/** The files that run the whole program under the mock engine (the others render and run scripts). */
export const programFiles = /^(cluster.*|ordering|rolling|upgrade)\.test\.ts$/;

export function loadUnitTests(select: (file: string) => boolean): void {
    const dir = path.join(__dirname, "..", "unit");
    for (const f of fs.readdirSync(dir).filter(f => f.endsWith(".test.ts") && select(f)).sort()) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(path.join(dir, f));
    }
}
