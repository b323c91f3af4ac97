// The same stack with protocol http, chosen explicitly: no certificate, the proxy on port 80.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodeBundle } from "../../render/bundle";
import { byType, fixtureInstaller, plainConfig, splitStdin, promiseOf, recorded, runStack } from "../mocks";

let outputs: Record<string, any>;

describe("a stack with protocol http", () => {
    before(async () => {
        outputs = await runStack({ ...plainConfig(fixtureInstaller()), protocol: "http" });
        await promiseOf(outputs.nodeStatus);
    });

    it("makes no certificate and publishes port 80 of the proxy", () => {
        assert.equal(byType("harbor-ha:index:ClusterTls").length, 0);
        const deploys = recorded.filter(r => r.name.endsWith("-deploy"));
        assert.equal(deploys.length, 3);
        for (const d of deploys) {
            const files = decodeBundle(splitStdin(d.inputs.stdin).data);
            assert.match(files.find(f => f.path === "docker-compose.yml")!.content, /- 8070:80$/m);
            assert.match(files.find(f => f.path === "harbor.cfg")!.content, /^ui_url_protocol = http$/m);
            assert.ok(!files.some(f => f.path.includes("/tls/")));
        }
        assert.equal(outputs.caPem, undefined);
    });
    it("has an http URL", async () => assert.equal(await promiseOf(outputs.url), "http://hub.example.test:8070"));
});
