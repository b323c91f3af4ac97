// Unit test of the lab's Pulumi program with mocks (no engine, no CLI):
//   cd /work/main && node --import tsx --test lab/test/index.test.ts
import { test } from "node:test";
import * as assert from "node:assert/strict";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";

const cache = fs.mkdtempSync(path.join(os.tmpdir(), "lab-test-"));
fs.mkdirSync(path.join(cache, "lab"), { recursive: true });
fs.writeFileSync(path.join(cache, "lab", "images.json"),
  JSON.stringify({ vm: "harbor-ha-lab/vm:aaaaaaaaaaaa", svc: "harbor-ha-lab/svc:bbbbbbbbbbbb" }));
process.env.HARBOR_HA_CACHE = cache;

const created: { type: string; name: string; inputs: any }[] = [];
function value<T>(o: pulumi.Output<T> | T): Promise<T> {
  return pulumi.Output.isInstance(o) ? new Promise((r) => (o as pulumi.Output<T>).apply(r)) : Promise.resolve(o as T);
}

test("lab program", async (t) => {
  await pulumi.runtime.setMocks({
    newResource(args) {
      created.push({ type: args.type, name: args.name, inputs: args.inputs });
      const state: any = { ...args.inputs };
      if (args.type === "docker:index/remoteImage:RemoteImage") state.imageId = `sha256:${args.name}`;
      if (args.type === "command:local:Command") state.stdout = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAItest";
      if (args.type === "random:index/randomPassword:RandomPassword") state.result = "pw-" + args.name;
      if (args.type === "random:index/randomBytes:RandomBytes") state.base64 = Buffer.alloc(16, 7).toString("base64");
      if (args.type === "random:index/randomUuid:RandomUuid") state.result = "00000000-0000-4000-8000-000000000000";
      return { id: `${args.name}-id`, state };
    },
    call: (args) => args.inputs,
  }, "harbor-ha-lab", "lab");
  const lab = await import("../index");
  // Registrations are asynchronous: resolve every output first, then look at what was created.
  await Promise.all([value(lab.lb.url), value(lab.mysql.host), value(lab.postgres.host), value(lab.redis.host),
    value(lab.ceph.monitors), ...lab.vms.map((v) => value(v.hostKey))]);

  await t.test("network, 9 containers, images by id", () => {
    const net = created.find((r) => r.type === "docker:index/network:Network")!;
    assert.equal(net.inputs.name, "harbor-ha-lab");
    assert.deepEqual(net.inputs.ipamConfigs, [{ subnet: "10.213.70.0/24", gateway: "10.213.70.1" }]);
    const ctrs = created.filter((r) => r.type === "docker:index/container:Container");
    assert.deepEqual(ctrs.map((c) => c.name).sort(), ["ceph", "dns", "lb", "mariadb", "postgres", "redis", "vm1", "vm2", "vm3"]);
    for (const c of ctrs) assert.match(c.inputs.image, /^sha256:(vm|svc)-image$/);
    for (const img of created.filter((r) => r.type === "docker:index/remoteImage:RemoteImage")) {
      assert.equal(img.inputs.keepLocally, true);
    }
  });

  await t.test("only 127.0.0.1 ports: ssh 2201-2203, lb 8070", () => {
    const ports = created.filter((r) => r.type === "docker:index/container:Container")
      .flatMap((c) => (c.inputs.ports ?? []).map((p: any) => ({ ...p, c: c.name })));
    assert.deepEqual(ports.map((p: any) => `${p.c} ${p.ip}:${p.external}->${p.internal}`).sort(),
      ["lb 127.0.0.1:8070->8070", "vm1 127.0.0.1:2201->22", "vm2 127.0.0.1:2202->22", "vm3 127.0.0.1:2203->22"]);
  });

  await t.test("VMs get the DinD flags", () => {
    const vm = created.find((r) => r.name === "vm1")!.inputs;
    assert.deepEqual(vm.capabilities, { adds: ["ALL"], drops: ["CAP_SYS_RESOURCE"] });
    assert.equal(vm.cgroupnsMode, "host");
    assert.ok(vm.devices.some((d: any) => d.hostPath === "/dev/fuse"));
    assert.ok(vm.volumes.some((v: any) => v.containerPath === "/sys/fs/cgroup"));
    assert.ok(vm.volumes.some((v: any) => v.containerPath === "/var/lib/docker" && v.hostPath.startsWith(cache)));
    assert.ok(vm.envs.some((e: string) => e.startsWith("LAB_SSH_AUTHORIZED_KEYS=ssh-ed25519 ")));
  });

  await t.test("the LB runs the config lab/scripts/lb-config.sh writes from the stack's output", () => {
    const lb = created.find((r) => r.name === "lb")!.inputs;
    assert.deepEqual(lb.command, ["lab-lb"]);
    assert.equal(lb.volumes.length, 1);
    assert.match(lb.volumes[0].hostPath, /\/lab\/state\/lb$/);
    assert.equal(lb.volumes[0].containerPath, "/etc/harbor-ha-lb");
    assert.equal(lb.volumes[0].readOnly, true);
    assert.deepEqual(lb.ports, [{ internal: 8070, external: 8070, ip: "127.0.0.1" }]);
  });

  await t.test("PostgreSQL for Harbor 2.x: its own address, volume, password and DNS name", () => {
    const pg = created.find((r) => r.type === "docker:index/container:Container" && r.name === "postgres")!.inputs;
    assert.deepEqual(pg.command, ["lab-postgres"]);
    assert.equal(pg.networksAdvanced[0].ipv4Address, "10.213.70.15");
    assert.deepEqual(pg.envs, ["POSTGRES_PASSWORD=pw-postgres-password"]);
    assert.equal(pg.volumes.length, 1);
    assert.equal(pg.volumes[0].containerPath, "/var/lib/postgresql/data");
    assert.equal(pg.volumes[0].hostPath, path.join(cache, "lab", "data", "postgres"));
    assert.deepEqual(pg.healthcheck.tests, ["CMD-SHELL", "test -e /dev/shm/lab-postgres.ready"]);
    assert.equal(pg.ports, undefined);
    const addresses = created.filter((r) => r.type === "docker:index/container:Container")
      .map((c) => c.inputs.networksAdvanced[0].ipv4Address);
    assert.equal(new Set(addresses).size, addresses.length);
    const dns = created.find((r) => r.name === "dns")!.inputs;
    assert.match(dns.envs[0], /(^|[= ])postgres\.harbor-ha\.lab=10\.213\.70\.15( |$)/);
  });

  await t.test("outputs", async () => {
    const vms = lab.vms;
    assert.equal(vms.length, 3);
    assert.equal(vms[1].sshPort, 2202);
    assert.equal(vms[1].address, "10.213.70.22");
    assert.match(await value(vms[0].hostKey), /^ssh-ed25519 /);
    assert.deepEqual(await value(lab.ceph.monitors), ["10.213.70.10:6789"]);
    const key = Buffer.from(await value(lab.ceph.secret), "base64");
    assert.equal(key.length, 28);
    assert.equal(key.readUInt16LE(0), 1);
    assert.equal(key.readUInt16LE(10), 16);
    assert.equal(await pulumi.isSecret(lab.ceph.secret), true);
    assert.equal(await pulumi.isSecret(lab.mysql.adminPassword), true);
    assert.equal(await value(lab.postgres.host), "postgres.harbor-ha.lab");
    assert.equal(lab.postgres.address, "10.213.70.15");
    assert.equal(lab.postgres.port, 5432);
    assert.equal(lab.postgres.adminUser, "postgres");
    assert.equal(await pulumi.isSecret(lab.postgres.adminPassword), true);
    assert.equal(await value(lab.postgres.adminPassword), "pw-postgres-password");
    assert.equal(await pulumi.isSecret(lab.redis.password), true);
    assert.equal(await pulumi.isSecret(lab.sshPrivateKey), true);
    assert.equal(await value(lab.lb.url), "http://127.0.0.1:8070");
  });
});
