// harbor-ha: a highly available Harbor on plain Linux VMs (see README.md).
import * as fs from "fs";
import * as pulumi from "@pulumi/pulumi";
import { loadConfig } from "./config/load";
import { configWarnings } from "./config/validate";
import { readInstaller, resolveInstaller } from "./config/installer";
import { HarborCluster } from "./components/harborCluster";
import { requireFlavor } from "./render/flavors";

async function main() {
    // Validation first: a bad stack file stops here, before any resource is registered.
    const { config, secrets } = loadConfig();
    for (const w of configWarnings(config)) pulumi.log.warn(w);
    const installer = readInstaller(await resolveInstaller(config.installer), requireFlavor(config.harborVersion));
    const cluster = new HarborCluster("cluster", {
        domain: config.domain,
        port: config.port,
        protocol: config.protocol,
        tls: config.tls,
        tlsPrivateKey: secrets.tlsPrivateKey,
        harborVersion: config.harborVersion,
        installer,
        installDir: config.installDir,
        nodes: config.nodes,
        sshPrivateKey: secrets.sshPrivateKey!,
        ceph: config.ceph,
        cephSecret: secrets.cephSecret!,
        mysql: config.mysql,
        mysqlPassword: secrets.mysqlPassword,
        mysqlAdminPassword: secrets.mysqlAdminPassword,
        mysqlSchemaSql: config.mysql.schemaFile ? fs.readFileSync(config.mysql.schemaFile, "utf8") : undefined,
        redis: config.redis,
        redisPassword: secrets.redisPassword,
        adminPassword: secrets.adminPassword,
        tokenKeyRotation: config.tokenKeyRotation,
        preflight: config.preflight,
        protectData: config.protectData,
    });
    return {
        url: cluster.url,
        nodeStatus: cluster.nodeStatus,
        preflight: cluster.preflight,
        tokenCertFingerprint: cluster.tokenCertFingerprint,
        tokenCertificatePem: cluster.tokenCertificatePem,
        adminPassword: cluster.adminPassword,
        caPem: cluster.caPem,
        clientTrustPath: cluster.clientTrustPath,
        tlsNotAfter: cluster.tlsNotAfter,
        installerSha256: installer.sha256,
    };
}

export = main();
