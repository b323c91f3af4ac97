#!/usr/bin/env python3
"""Write a `docker save`-format archive (the layout `docker load` reads: manifest.json,
one JSON config per image, layer tarballs) without a Docker engine.

usage: mkimage.py SPEC.json OUT.tar.gz
SPEC.json:
  {"layers": {"base": "/path/base.tar", ...},          # uncompressed layer tarballs
   "created": "2017-12-01T00:00:00Z",
   "images": [{"tag": "harbor-lab/ui:v1.2.2", "layers": ["base", "app"],
               "config": {"Cmd": [...], "Entrypoint": [...], "Env": [...], ...}}, ...]}
Each layer is stored once even when several images use it.
"""
import hashlib
import io
import json
import subprocess
import sys
import tarfile


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def add_bytes(tar, name, data, mtime):
    ti = tarfile.TarInfo(name)
    ti.size = len(data)
    ti.mode = 0o644
    ti.mtime = mtime
    tar.addfile(ti, io.BytesIO(data))


def main(spec_path, out_path):
    with open(spec_path) as f:
        spec = json.load(f)
    created = spec.get("created", "2017-12-01T00:00:00Z")
    mtime = 1512086400
    digests = {name: sha256_file(path) for name, path in spec["layers"].items()}
    manifest, configs = [], []
    for img in spec["images"]:
        cfg = {
            "architecture": "amd64",
            "os": "linux",
            "created": created,
            "config": dict({"Env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]},
                           **img.get("config", {})),
            "rootfs": {"type": "layers", "diff_ids": ["sha256:" + digests[l] for l in img["layers"]]},
            "history": [{"created": created, "created_by": "harbor-lab installer: layer %s" % l}
                        for l in img["layers"]],
        }
        raw = json.dumps(cfg, sort_keys=True, separators=(",", ":")).encode()
        cfg_name = hashlib.sha256(raw).hexdigest() + ".json"
        configs.append((cfg_name, raw))
        manifest.append({"Config": cfg_name, "RepoTags": [img["tag"]],
                         "Layers": ["%s/layer.tar" % digests[l] for l in img["layers"]]})

    with open(out_path, "wb") as out:
        gz = subprocess.Popen(["gzip", "-n", "-6"], stdin=subprocess.PIPE, stdout=out)
        with tarfile.open(fileobj=gz.stdin, mode="w|", format=tarfile.PAX_FORMAT) as tar:
            for name, path in spec["layers"].items():
                d = digests[name]
                dir_ti = tarfile.TarInfo(d)
                dir_ti.type = tarfile.DIRTYPE
                dir_ti.mode = 0o755
                dir_ti.mtime = mtime
                tar.addfile(dir_ti)
                add_bytes(tar, d + "/VERSION", b"1.0", mtime)
                ti = tar.gettarinfo(path, arcname=d + "/layer.tar")
                ti.uid = ti.gid = 0
                ti.uname = ti.gname = ""
                ti.mtime = mtime
                with open(path, "rb") as f:
                    tar.addfile(ti, f)
            for name, raw in configs:
                add_bytes(tar, name, raw, mtime)
            add_bytes(tar, "manifest.json", json.dumps(manifest, indent=1).encode(), mtime)
        gz.stdin.close()
        if gz.wait() != 0:
            sys.exit("gzip failed")
    for m in manifest:
        print("[installer] image %s: %d layers, config %s" % (m["RepoTags"][0], len(m["Layers"]), m["Config"][:12]))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2])
