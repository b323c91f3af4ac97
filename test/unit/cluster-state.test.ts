// What the engine keeps in state and how it replaces and protects: the options every resource asked
// for (recorded by the mocks' monitor), for a 1.x and a 2.x stack.
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { decodeBundle } from "../../render/bundle";
import {
    byType, fixtureInstaller, generatedSecrets, plainConfig, plainConfigV2, plainState, plainText, promiseOf, recorded, registeredOutputs,
    runStack, secretValues, secretValuesV2, splitStdin,
} from "../mocks";

/** Every secret of the stack, given or generated, long enough not to match by chance. */
function allSecrets(given: Record<string, string>): string[] {
    const pems = generatedSecrets.filter(s => s.includes("PRIVATE KEY"));
    // A PEM's body lines too: a key re-wrapped or cut into a file would still show them.
    const bodies = pems.flatMap(p => p.split(/\r?\n/).filter(l => l.length >= 40 && !l.startsWith("-----")).slice(0, 2));
    // As they stand in JSON, which is how the texts they are looked for in are written.
    return [...Object.values(given), ...generatedSecrets, ...bodies].filter(s => s.length >= 8).map(s => JSON.stringify(s).slice(1, -1));
}

function expectNoPlainSecret(given: Record<string, string>): void {
    const secrets = allSecrets(given);
    assert.ok(generatedSecrets.some(s => s.includes("PRIVATE KEY")), "the mocks generated private keys to look for");
    for (const r of recorded) {
        const text = plainState(r);
        for (const s of secrets) assert.ok(!text.includes(s), `${r.type} ${r.name} keeps a secret in plain text in state (${s.slice(0, 12)}...)`);
    }
    assert.ok(registeredOutputs.length > 0, "components registered outputs");
    for (const o of registeredOutputs) {
        const text = plainText(o.outputs);
        for (const s of secrets) assert.ok(!text.includes(s), `${o.urn} registers a secret output in plain text`);
    }
}

const named = (suffix: string) => recorded.filter(r => r.name.endsWith(suffix));
const dynamic = (type: string) => recorded.filter(r => r.type.startsWith("pulumi-nodejs:dynamic") && r.type.endsWith(`:${type}`));

describe("state of a 1.x stack", () => {
    before(async () => {
        const outputs = await runStack(plainConfig(fixtureInstaller()));
        await promiseOf(outputs.nodeStatus);
    });

    it("keeps no secret in plain text: not in any resource's inputs or outputs, not in any component's outputs", () => {
        expectNoPlainSecret(secretValues);
    });
    it("asks the engine to keep the private keys secret", () => {
        const secretOutputs = (type: string) => dynamic(type).map(r => r.options.additionalSecretOutputs);
        assert.deepEqual(secretOutputs("TokenKeypair"), [["privateKeyPem"]]);
        assert.deepEqual(secretOutputs("ClusterCa"), [["privateKeyPem"]]);
        assert.deepEqual(secretOutputs("ServerCertificate"), [["privateKeyPem", "caPrivateKeyPem"]]);
        for (const c of byType("command:remote:Command")) assert.ok(c.options.additionalSecretOutputs.includes("stderr"), `${c.name}: stderr may echo a secret`);
    });
    it("replaces a node's deployment and mount delete-first: the old one stops before the new one starts", () => {
        const replaced = [...named("-deploy"), ...named("-cephfs-mount")];
        assert.equal(replaced.length, 6);
        for (const r of replaced) assert.equal(r.options.deleteBeforeReplace, true, r.name);
    });
    it("writes the Ceph secret file 0600", () => {
        for (const m of named("-cephfs-mount")) {
            const files = decodeBundle(splitStdin(m.inputs.stdin).data);
            const key = files.find(f => f.path.endsWith(".keyring") || f.path.endsWith(".secret"))!;
            assert.ok(key.content.includes(secretValues.cephSecret), `${m.name}: the bundle carries the key`);
            assert.equal(key.mode, "0600", `${m.name}: ${key.path}`);
            for (const f of files.filter(f => f !== key)) assert.ok(!f.content.includes(secretValues.cephSecret), `${f.path} has the key`);
        }
    });
    it("protects nothing without protectData", () => {
        assert.deepEqual(recorded.filter(r => r.options.protect).map(r => r.name), []);
    });
});

/** The resources that carry data or what clients trust: a destroy must stop at them with protectData. */
const dataBearing = /^cluster-(token-keys|tls|harbor-\d-cephfs|mysql|postgres)(-|$)/;

describe("a stack with protectData", () => {
    before(async () => {
        const outputs = await runStack({ ...plainConfig(fixtureInstaller()), protectData: true });
        await promiseOf(outputs.nodeStatus);
    });

    it("protects the token keys, the TLS material, every CephFS mount and the database setup, and nothing else", () => {
        const protectedNames = recorded.filter(r => r.options.protect).map(r => r.name).sort();
        const expected = recorded.filter(r => dataBearing.test(r.name)).map(r => r.name).sort();
        for (const must of ["cluster-token-keys-keypair", "cluster-harbor-1-cephfs-mount", "cluster-harbor-3-cephfs-mount", "cluster-mysql-setup"]) {
            assert.ok(expected.includes(must), `${must} exists`);
        }
        assert.ok(expected.some(n => /^cluster-tls-/.test(n) && recorded.find(r => r.name === n)!.options.custom), "a TLS resource exists");
        assert.deepEqual(protectedNames, expected);
    });
});

describe("state of a 2.x stack", () => {
    before(async () => {
        const outputs = await runStack(plainConfigV2(fixtureInstaller("2.15.2")), secretValuesV2);
        await promiseOf(outputs.nodeStatus);
    });

    it("keeps no secret in plain text, the registry's htpasswd hash included", () => {
        assert.deepEqual(dynamic("RegistryHtpasswd").map(r => r.options.additionalSecretOutputs), [["hash"]]);
        assert.ok(generatedSecrets.some(s => s.startsWith("$2")), "the bcrypt hash is one of the secrets looked for");
        expectNoPlainSecret(secretValuesV2);
    });
    it("replaces every deployment delete-first", () => {
        assert.equal(named("-deploy").length, 3);
        for (const r of named("-deploy")) assert.equal(r.options.deleteBeforeReplace, true, r.name);
    });
});
