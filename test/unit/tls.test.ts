// The cluster certificate: SANs, chain to the CA, key match, renewal, and supplied-certificate checks.
import assert from "node:assert/strict";
import { createPrivateKey, X509Certificate } from "node:crypto";
import { describe, it } from "node:test";
import { certificateDiff } from "../../components/clusterTls";
import { generateCa, issueServerCertificate } from "../../components/tlsMaterial";
import { certificateProblems } from "../../config/certificate";
import { configWarnings, validateConfig } from "../../config/validate";
import { fixtures, plainConfig, secretValues } from "../mocks";
import * as path from "path";

const ca = generateCa("harbor-ha CA for hub.example.test", 3650);
const server = issueServerCertificate({
    domain: "hub.example.test", sans: ["harbor-1", "10.99.0.11", "10.99.0.12"],
    caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, validDays: 397,
});
const cert = new X509Certificate(server.certificatePem);
const caCert = new X509Certificate(ca.certificatePem);

describe("generated certificates", () => {
    it("names the domain, the node names and addresses", () => {
        assert.equal(cert.subjectAltName, "DNS:hub.example.test, DNS:harbor-1, IP Address:10.99.0.11, IP Address:10.99.0.12");
        assert.equal(cert.checkHost("hub.example.test"), "hub.example.test");
        assert.equal(cert.checkIP("10.99.0.12"), "10.99.0.12");
    });
    it("chains to the CA and matches its key", () => {
        assert.ok(cert.checkIssued(caCert));
        assert.ok(cert.verify(caCert.publicKey));
        assert.ok(cert.checkPrivateKey(createPrivateKey(server.privateKeyPem)));
        assert.equal(caCert.ca, true);
        assert.equal(cert.ca, false);
    });
    it("passes its own validation", () => {
        assert.deepEqual(certificateProblems(server.certificatePem, server.privateKeyPem, "hub.example.test"), []);
    });
});

describe("renewal", () => {
    const inputs = {
        domain: "hub.example.test", sans: ["a"], caCertificatePem: "CA", caPrivateKeyPem: "K", validDays: 397, renewBeforeDays: 30,
    };
    const day = 86_400_000;
    it("keeps a certificate far from expiry", () => {
        assert.deepEqual(certificateDiff({ ...inputs, notAfter: new Date(Date.now() + 100 * day).toISOString() }, inputs),
            { changes: false, replaces: [] });
    });
    it("re-issues within renewBeforeDays of expiry", () => {
        const d = certificateDiff({ ...inputs, notAfter: new Date(Date.now() + 29 * day).toISOString() }, inputs);
        assert.deepEqual(d.replaces, ["notAfter"]);
    });
    it("honours a configured renewal window", () => {
        const d = certificateDiff({ ...inputs, notAfter: new Date(Date.now() + 50 * day).toISOString() }, { ...inputs, renewBeforeDays: 60 });
        assert.deepEqual(d.replaces, ["notAfter"]);
    });
    it("re-issues when a node address is added, never for the token keys' sake", () => {
        const d = certificateDiff({ ...inputs, notAfter: new Date(Date.now() + 100 * day).toISOString() }, { ...inputs, sans: ["a", "b"] });
        assert.deepEqual(d.replaces, ["sans"]);
    });
});

describe("supplied certificates", () => {
    it("refuses a key from another pair", () => {
        const other = generateCa("other", 10);
        assert.deepEqual(certificateProblems(server.certificatePem, other.privateKeyPem, "hub.example.test"),
            ["does not match harbor-ha:tlsPrivateKey (a different key pair)"]);
    });
    it("refuses a certificate for another domain, and accepts a matching wildcard", () => {
        assert.match(certificateProblems(server.certificatePem, server.privateKeyPem, "registry.example.test")[0],
            /does not cover the domain registry\.example\.test \(it names hub\.example\.test, harbor-1\)/);
        const wild = issueServerCertificate({ domain: "*.example.test", sans: [], caCertificatePem: ca.certificatePem, caPrivateKeyPem: ca.privateKeyPem, validDays: 5 });
        assert.deepEqual(certificateProblems(wild.certificatePem, wild.privateKeyPem, "hub.example.test"), []);
        assert.equal(certificateProblems(wild.certificatePem, wild.privateKeyPem, "a.hub.example.test").length, 1);
    });
    it("refuses an expired certificate", () => {
        assert.match(certificateProblems(server.certificatePem, server.privateKeyPem, "hub.example.test", new Date(Date.now() + 400 * 86_400_000))[0], /^expired on /);
    });
    it("refuses text that is not a certificate", () => {
        assert.match(certificateProblems("nope", server.privateKeyPem, "hub.example.test")[0], /not a PEM certificate/);
    });
    it("the validator names tls.certificate with each problem", () => {
        const c = plainConfig(path.join(fixtures, "registry.sql")) as Record<string, any>;
        c.tls = { certificate: server.certificatePem };
        c.domain = "other.example.test";
        const secrets = Object.fromEntries(Object.entries({ ...secretValues, tlsPrivateKey: generateCa("x", 1).privateKeyPem })
            .map(([k, v]) => [k, { value: v, storedAsSecret: true }]));
        assert.throws(() => validateConfig({ values: c, secrets, fileExists: () => true }), (e: Error) =>
            /harbor-ha:tls\.certificate: does not match harbor-ha:tlsPrivateKey/.test(e.message) &&
            /harbor-ha:tls\.certificate: does not cover the domain other\.example\.test/.test(e.message));
    });
});

describe("http", () => {
    const secrets = Object.fromEntries(Object.entries(secretValues).map(([k, v]) => [k, { value: v, storedAsSecret: true }]));
    it("is https unless chosen, and http is warned about", () => {
        const c = plainConfig(path.join(fixtures, "registry.sql")) as Record<string, any>;
        const https = validateConfig({ values: c, secrets, fileExists: () => true });
        assert.equal(https.protocol, "https");
        assert.deepEqual(configWarnings(https), []);
        const http = validateConfig({ values: { ...c, protocol: "http" }, secrets, fileExists: () => true });
        assert.match(configWarnings(http)[0], /harbor-ha:protocol is http: .*clear text.*insecure-registries/);
    });
    it("refuses another protocol", () => {
        const c = { ...plainConfig(path.join(fixtures, "registry.sql")), protocol: "ftp" };
        assert.throws(() => validateConfig({ values: c, secrets, fileExists: () => true }), /harbor-ha:protocol: must be "https" or "http"/);
    });
});
