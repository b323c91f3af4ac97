#!/usr/bin/python3
"""A directory as a docker image layer tar: root-owned, one fixed mtime, git's modes (0755 for
directories and executables, 0644 otherwise, whatever umask the checkout was made with: a 0700
directory in a layer would hide what is below it from Harbor's non-root users), no byte code,
sorted, so the same files always give the same layer.
  dir2layer.py SRC_DIR OUT_TAR MTIME"""
import os
import sys
import tarfile

src, out, mtime = sys.argv[1], sys.argv[2], int(sys.argv[3])


def norm(ti):
    ti.mode = 0o755 if ti.isdir() or ti.mode & 0o100 else 0o644
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = mtime
    return ti


with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
    for root, dirs, files in os.walk(src):
        dirs[:] = sorted(d for d in dirs if d != "__pycache__")
        for name in dirs + sorted(f for f in files if not f.endswith(".pyc")):
            path = os.path.join(root, name)
            tar.add(path, arcname=os.path.relpath(path, src), recursive=False, filter=norm)
