// Run with: pulumi preview|up --policy-pack ./policy [--policy-pack-config policy/config/<stack>.json]
// Advisory (warnings) by default; a production stack's config file makes them mandatory.
import { PolicyPack } from "@pulumi/policy";
import { https, installerSha256, minNodes, noPlaintextSecrets, pinnedHostKeys, protectData } from "./policies";

new PolicyPack("harbor-ha", {
    enforcementLevel: "advisory",
    policies: [
        { name: "harbor-ha-min-nodes", description: "At least 3 Harbor nodes.", validateStack: minNodes },
        { name: "harbor-ha-https", description: "The registry serves HTTPS.", validateStack: https },
        { name: "harbor-ha-pinned-host-keys", description: "Every SSH connection pins the node's host key.", validateResource: pinnedHostKeys },
        { name: "harbor-ha-no-plaintext-secrets", description: "Secrets only on stdin, never in command lines or environment.", validateResource: noPlaintextSecrets },
        { name: "harbor-ha-installer-sha256", description: "The installer is keyed and checked by its sha256.", validateResource: installerSha256 },
        { name: "harbor-ha-protect-data", description: "Data-bearing resources are protected from pulumi destroy.", validateResource: protectData },
    ],
});
