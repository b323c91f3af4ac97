// The harbor-ha program: config in, the HarborCluster, stack outputs out. index.ts runs it; the unit
// tests run it under mocks, once per stack they describe.
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { configWarnings } from "./config/validate";
import { readInstaller, resolveInstaller } from "./config/installer";
import { HarborCluster } from "./components/harborCluster";
import { requireFlavor } from "./render/flavors";

/** The Harbor version this stack's nodes run now: its own last `harborVersion` output (none on a new stack). */
async function deployedHarborVersion(): Promise<string | undefined> {
    const self = new pulumi.StackReference(`${pulumi.getOrganization()}/${pulumi.getProject()}/${pulumi.getStack()}`);
    const v = (await self.getOutputDetails("harborVersion")).value;
    return typeof v === "string" && v !== "" ? v : undefined;
}

export async function harborStack() {
    // Validation first: a bad stack file stops here, before any resource is registered.
    const { config, secrets } = loadConfig();
    for (const w of configWarnings(config)) pulumi.log.warn(w);
    const flavor = requireFlavor(config.harborVersion);
    const installer = readInstaller(await resolveInstaller(config.installer), flavor);
    const recorded = await deployedHarborVersion();
    if (recorded !== undefined && config.deployedHarborVersion !== undefined && recorded !== config.deployedHarborVersion) {
        pulumi.log.warn(`harbor-ha:deployedHarborVersion (${config.deployedHarborVersion}) is ignored: this stack records that its nodes run ${recorded}; remove the key`);
    }
    const mysql = flavor.database === "mysql";
    const cluster = new HarborCluster("cluster", {
        domain: config.domain,
        port: config.port,
        protocol: config.protocol,
        tls: config.tls,
        tlsPrivateKey: secrets.tlsPrivateKey,
        harborVersion: config.harborVersion,
        // The stack's own record first; the config says it only for a stack that lost its record.
        deployedHarborVersion: recorded ?? config.deployedHarborVersion,
        installer,
        installDir: config.installDir,
        nodes: config.nodes,
        sshPrivateKey: secrets.sshPrivateKey!,
        ceph: config.ceph,
        cephSecret: secrets.cephSecret!,
        mysql: config.mysql,
        postgres: config.postgres,
        databasePassword: mysql ? secrets.mysqlPassword : secrets.postgresPassword,
        databaseAdminPassword: mysql ? secrets.mysqlAdminPassword : secrets.postgresAdminPassword,
        mysqlSchemaSql: config.mysql?.schemaFile ? fs.readFileSync(config.mysql.schemaFile, "utf8") : undefined,
        redis: config.redis,
        redisPassword: secrets.redisPassword,
        adminPassword: secrets.adminPassword,
        tokenKeyRotation: config.tokenKeyRotation,
        preflight: config.preflight,
        loadBalancer: config.loadBalancer,
        protectData: config.protectData,
        adoptCluster: config.adoptCluster,
    });
    return {
        url: cluster.url,
        harborVersion: cluster.harborVersion,
        upgrade: cluster.upgrade,
        nodeStatus: cluster.nodeStatus,
        preflight: cluster.preflight,
        tokenCertFingerprint: cluster.tokenCertFingerprint,
        tokenCertificatePem: cluster.tokenCertificatePem,
        adminPassword: cluster.adminPassword,
        caPem: cluster.caPem,
        clientTrustPath: cluster.clientTrustPath,
        tlsNotAfter: cluster.tlsNotAfter,
        tlsCertFingerprint: cluster.tlsCertFingerprint,
        loadBalancer: cluster.loadBalancer,
        installerSha256: installer.sha256,
    };
}
