// Every unit test of the program in one process (npm run test:unit): the Pulumi SDK, tsx and the
// mocks load once. Each file describes its own stacks (mocks.runStack) inside its suites, which run
// one after another. (lab/test has its own mock monitor and runs as a second process.)
import * as fs from "fs";
import * as path from "path";

for (const dir of [path.join(__dirname, "unit")]) {
    for (const f of fs.readdirSync(dir).filter(f => f.endsWith(".test.ts")).sort()) {
        // eslint-disable-next-line @typescript-eslint/no-require-imports
        require(path.join(dir, f));
    }
}
