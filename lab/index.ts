// The harbor-ha local lab as infrastructure as code (project harbor-ha-lab, stack `lab`).
//
// Everything runs on the lab's dedicated Docker engine (lab/scripts/engine.sh) from images built by
// lab/images/build.sh (nothing can be pulled): one network, a one-node Ceph, MariaDB, PostgreSQL,
// Redis, N "VMs" (sshd + their own dockerd) and an HAProxy load balancer. Ports are published on
// 127.0.0.1 only. Use lab/scripts/up.sh, which starts the engine, builds the images and runs `pulumi up`.
//
// Stack outputs (consumed by the main program's `dev` stack): vms[], ssh key, ceph, mysql, postgres,
// redis, lb.
import * as pulumi from "@pulumi/pulumi";
import * as docker from "@pulumi/docker";
import * as random from "@pulumi/random";
import * as command from "@pulumi/command";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const cfg = new pulumi.Config();
const cacheDir = process.env.HARBOR_HA_CACHE || "/var/cache/harbor-ha";
const labCache = path.join(cacheDir, "lab");
const labState = path.join(labCache, "state");
const labData = path.join(labCache, "data");
const dockerHost = cfg.get("dockerHost") || "unix:///run/harbor-ha-lab/docker.sock";
const dockerCli = "/usr/bin/docker";
const vmCount = cfg.getNumber("vmCount", { min: 1, max: 9 }) ?? 3;

// Addresses: keep in sync with lab/scripts/lib.sh (the shell provisioner uses the same ones).
const net = {
  name: "harbor-ha-lab",
  bridge: "hhlab0",
  subnet: "10.213.70.0/24",
  gateway: "10.213.70.1",
  ceph: "10.213.70.10",
  mariadb: "10.213.70.11",
  redis: "10.213.70.12",
  lb: "10.213.70.13",
  dns: "10.213.70.14",
  postgres: "10.213.70.15",
  domain: "harbor-ha.lab",
  vm: (i: number) => `10.213.70.${20 + i}`,
  sshPort: (i: number) => 2200 + i,
  lbPort: 8070,
};

// Images: tags written by lab/images/build.sh (content-hash tags), or set in config.
function imageTag(name: "vm" | "svc"): string {
  const fromCfg = cfg.get(`${name}Image`);
  if (fromCfg) return fromCfg;
  const f = path.join(labCache, "images.json");
  let tags: Record<string, string> = {};
  try {
    tags = JSON.parse(fs.readFileSync(f, "utf8"));
  } catch {
    throw new Error(`lab: cannot read ${f}; run lab/images/build.sh first (or set config ${name}Image)`);
  }
  if (!tags[name]) throw new Error(`lab: no '${name}' image in ${f}; run lab/images/build.sh`);
  return tags[name];
}

// The lab's SSH client keypair lives in the cache (never in the repo); lab/scripts/keys.sh makes it.
const keyPath = path.join(labState, "ssh", "id_ed25519");
if (!fs.existsSync(keyPath)) {
  execFileSync(path.join(__dirname, "scripts", "keys.sh"), { stdio: ["ignore", "ignore", "inherit"] });
}
const sshPublicKey = fs.readFileSync(`${keyPath}.pub`, "utf8").trim();
const sshPrivateKey = pulumi.secret(fs.readFileSync(keyPath, "utf8"));

const provider = new docker.Provider("lab-engine", { host: dockerHost });
const opts: pulumi.CustomResourceOptions = { provider };

// Images exist locally (built by build.sh); RemoteImage finds them without pulling, and
// keepLocally stops `pulumi destroy` from deleting them.
const vmImage = new docker.RemoteImage("vm-image", { name: imageTag("vm"), keepLocally: true }, opts);
const svcImage = new docker.RemoteImage("svc-image", { name: imageTag("svc"), keepLocally: true }, opts);

const labNetwork = new docker.Network("lab-network", {
  name: net.name,
  driver: "bridge",
  ipamConfigs: [{ subnet: net.subnet, gateway: net.gateway }],
  options: {
    "com.docker.network.bridge.name": net.bridge,
    // Lab containers have no business outside the lab (engine.sh also drops their forwarding).
    "com.docker.network.bridge.enable_ip_masquerade": "false",
  },
  labels: [{ label: "harbor-ha-lab", value: "1" }],
}, opts);

// Secrets.
const mariadbPassword = new random.RandomPassword("mariadb-root-password", { length: 24, special: false });
const postgresPassword = new random.RandomPassword("postgres-password", { length: 24, special: false });
const redisPassword = new random.RandomPassword("redis-password", { length: 24, special: false });
const cephFsid = new random.RandomUuid("ceph-fsid", {});
const cephKeyBytes = new random.RandomBytes("ceph-client-key", { length: 16 });
// A cephx secret: le16 type (1 = AES) + le32 created.sec + le32 created.nsec + le16 length + key.
const cephClientKey = pulumi.secret(cephKeyBytes.base64.apply((b64) => {
  const head = Buffer.alloc(12);
  head.writeUInt16LE(1, 0);
  head.writeUInt32LE(1_700_000_000, 2); // fixed "created" time keeps the key stable across runs
  head.writeUInt32LE(0, 6);
  head.writeUInt16LE(16, 10);
  return Buffer.concat([head, Buffer.from(b64, "base64")]).toString("base64");
}));

const labels = [{ label: "harbor-ha-lab", value: "1" }];
function health(test: string, startPeriod = "5s"): docker.types.input.ContainerHealthcheck {
  return { tests: ["CMD-SHELL", test], interval: "2s", timeout: "10s", retries: 90, startPeriod };
}
function svcContainer(name: string, ip: string, cmd: string, extra: Partial<docker.ContainerArgs>): docker.Container {
  return new docker.Container(name, {
    name,
    hostname: name,
    image: svcImage.imageId,
    command: [cmd],
    networksAdvanced: [{ name: labNetwork.name, ipv4Address: ip }],
    restart: "unless-stopped",
    labels,
    wait: true,
    waitTimeout: 240,
    ...extra,
  }, opts);
}

const cephCtr = svcContainer("ceph", net.ceph, "lab-ceph", {
  envs: [
    `CEPH_MON_IP=${net.ceph}`,
    `CEPH_PUBLIC_NETWORK=${net.subnet}`,
    pulumi.interpolate`CEPH_FSID=${cephFsid.result}`,
    "CEPH_FS_NAME=cephfs",
    "CEPH_CLIENT_NAME=harbor",
    pulumi.interpolate`CEPH_CLIENT_KEY=${cephClientKey}`,
    "CEPH_MKDIRS=/apps/harbor",
  ],
  volumes: [{ hostPath: path.join(labData, "ceph"), containerPath: "/var/lib/ceph" }],
  healthcheck: health("test -e /dev/shm/lab-ceph.ready", "20s"),
  stopTimeout: 30,
});
const mariadbCtr = svcContainer("mariadb", net.mariadb, "lab-mariadb", {
  envs: [pulumi.interpolate`MARIADB_ROOT_PASSWORD=${mariadbPassword.result}`],
  volumes: [{ hostPath: path.join(labData, "mariadb"), containerPath: "/var/lib/mysql" }],
  healthcheck: health("test -e /dev/shm/lab-mariadb.ready"),
});
// Harbor 2.x's database (1.x uses MariaDB); superuser postgres with the generated password.
const postgresCtr = svcContainer("postgres", net.postgres, "lab-postgres", {
  envs: [pulumi.interpolate`POSTGRES_PASSWORD=${postgresPassword.result}`],
  volumes: [{ hostPath: path.join(labData, "postgres"), containerPath: "/var/lib/postgresql/data" }],
  healthcheck: health("test -e /dev/shm/lab-postgres.ready"),
  stopTimeout: 30,
});
const redisCtr = svcContainer("redis", net.redis, "lab-redis", {
  envs: [pulumi.interpolate`REDIS_PASSWORD=${redisPassword.result}`],
  volumes: [{ hostPath: path.join(labData, "redis"), containerPath: "/var/lib/redis" }],
  healthcheck: health('REDISCLI_AUTH="$REDIS_PASSWORD" redis-cli --no-auth-warning ping | grep -q PONG'),
});

// The site's DNS: services by name (Redis is reached by name, as in production), the domain -> the LB.
const dnsRecords = [["ceph", net.ceph], ["mariadb", net.mariadb], ["postgres", net.postgres], ["redis", net.redis],
  ["lb", net.lb], ["hub", net.lb]]
  .map(([n, ip]) => `${n}.${net.domain}=${ip}`).join(" ");
const dnsCtr = svcContainer("dns", net.dns, "lab-dns", {
  envs: [`LAB_DNS_RECORDS=${dnsRecords}`],
  healthcheck: health("kill -0 1"),
});

interface LabVm {
  name: string;
  sshHost: string;
  sshPort: number;
  sshUser: string;
  address: string;
  hostKey: pulumi.Output<string>;
}
const vms: LabVm[] = [];
for (let i = 1; i <= vmCount; i++) {
  const name = `vm${i}`;
  const vm = new docker.Container(name, {
    name,
    hostname: name,
    image: vmImage.imageId,
    networksAdvanced: [{ name: labNetwork.name, ipv4Address: net.vm(i) }],
    ports: [{ internal: 22, external: net.sshPort(i), ip: "127.0.0.1" }],
    // Docker-in-Docker without --privileged (CAP_SYS_RESOURCE is missing here). The VM's init
    // unmasks /proc and /sys itself (API clients cannot ask for systempaths=unconfined).
    capabilities: { adds: ["ALL"], drops: ["CAP_SYS_RESOURCE"] }, // canonical form: no diff on refresh
    securityOpts: ["seccomp=unconfined", "apparmor=unconfined"],
    cgroupnsMode: "host",
    devices: [{ hostPath: "/dev/fuse", containerPath: "/dev/fuse", permissions: "rwm" }],
    volumes: [
      { hostPath: "/sys/fs/cgroup", containerPath: "/sys/fs/cgroup" },
      { hostPath: path.join(labData, name, "docker"), containerPath: "/var/lib/docker" },
      // A second "disk" for data (Docker's data root can move there: the seed's third article).
      { hostPath: path.join(labData, name, "disk"), containerPath: "/data" },
    ],
    envs: [`LAB_SSH_AUTHORIZED_KEYS=${sshPublicKey}`],
    dns: [net.dns],
    dnsSearches: [net.domain],
    restart: "unless-stopped",
    stopTimeout: 30,
    labels,
    healthcheck: health("test -s /etc/ssh/ssh_host_ed25519_key.pub && kill -0 $(cat /run/sshd.pid) && docker version >/dev/null"),
    wait: true,
    waitTimeout: 120,
  }, { ...opts, dependsOn: [dnsCtr] });
  // The host key is generated by the VM at its first start: read it back to pin it.
  const hostKey = new command.local.Command(`${name}-hostkey`, {
    create: `${dockerCli} exec ${name} cat /etc/ssh/ssh_host_ed25519_key.pub | awk '{print $1" "$2}' | grep -E '^ssh-ed25519 [A-Za-z0-9+/=]+$'`,
    environment: { DOCKER_HOST: dockerHost },
    triggers: [vm.id],
    addPreviousOutputInEnv: false,
  }, { dependsOn: [vm] });
  vms.push({ name, sshHost: "127.0.0.1", sshPort: net.sshPort(i), sshUser: "root", address: net.vm(i), hostKey: hostKey.stdout });
}

// Runs the harbor-ha stack's loadBalancer output, written here by lab/scripts/lb-config.sh.
fs.mkdirSync(path.join(labState, "lb"), { recursive: true });
const lbContainer = svcContainer("lb", net.lb, "lab-lb", {
  volumes: [{ hostPath: path.join(labState, "lb"), containerPath: "/etc/harbor-ha-lb", readOnly: true }],
  ports: [{ internal: net.lbPort, external: net.lbPort, ip: "127.0.0.1" }],
  healthcheck: health("kill -0 1"),
});

// ---- outputs ---------------------------------------------------------------------------------
export const network = { name: labNetwork.name, subnet: net.subnet };
export { vms };
export const sshPrivateKeyPath = keyPath;
export { sshPublicKey, sshPrivateKey };
export const ceph = {
  monitors: cephCtr.id.apply(() => [`${net.ceph}:6789`]),
  fsName: "cephfs",
  clientName: "harbor",
  rootPath: "/apps/harbor",
  secret: cephClientKey,
};
export const mysql = {
  host: mariadbCtr.id.apply(() => net.mariadb),
  port: 3306,
  adminUser: "root",
  adminPassword: pulumi.secret(mariadbPassword.result),
};
export const postgres = {
  host: postgresCtr.id.apply(() => `postgres.${net.domain}`),
  address: net.postgres,
  port: 5432,
  adminUser: "postgres",
  adminPassword: pulumi.secret(postgresPassword.result),
};
export const redis = {
  host: redisCtr.id.apply(() => `redis.${net.domain}`),
  address: net.redis,
  port: 6379,
  password: pulumi.secret(redisPassword.result),
};
export const lb = {
  url: lbContainer.id.apply(() => `http://127.0.0.1:${net.lbPort}`),
  address: net.lb,
  port: net.lbPort,
};
