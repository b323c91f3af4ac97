#!/usr/bin/env python3
"""Turn an overlayfs upper directory into a Docker image layer tarball.

overlayfs marks a deleted lower file with a 0:0 character device and a directory
that hides everything below it with the xattr trusted.overlay.opaque=y.  Docker
layers express the same with ".wh.<name>" and ".wh..wh..opq" marker files.

An opaque marker is only written for directories that also exist in LOWER_DIR:
overlayfs flags some brand-new directories opaque too, where it means nothing.

usage: overlay2layer.py UPPER_DIR OUT.tar LOWER_DIR
"""
import io
import os
import stat
import sys
import tarfile


def numeric(ti):
    # Docker applies uid/gid numerically; host user names mean nothing inside the image.
    ti.uname = ""
    ti.gname = ""
    return ti


def marker(tar, arcname, like):
    ti = tarfile.TarInfo(arcname)
    ti.type = tarfile.REGTYPE
    ti.size = 0
    ti.mode = 0o644
    ti.mtime = int(like.st_mtime)
    tar.addfile(ti, io.BytesIO(b""))


def opaque(path):
    for name in ("trusted.overlay.opaque", "user.overlay.opaque"):
        try:
            if os.getxattr(path, name, follow_symlinks=False) == b"y":
                return True
        except OSError:
            pass
    return False


def main(upper, out, lower):
    whiteouts = opaques = 0
    with tarfile.open(out, "w", format=tarfile.PAX_FORMAT) as tar:
        for root, dirs, files in os.walk(upper):
            dirs.sort()
            files.sort()
            rel_root = os.path.relpath(root, upper)
            for name in dirs + files:
                path = os.path.join(root, name)
                arc = os.path.normpath(os.path.join(rel_root, name))
                st = os.lstat(path)
                if stat.S_ISCHR(st.st_mode) and st.st_rdev == 0:
                    marker(tar, os.path.join(os.path.dirname(arc), ".wh." + name), st)
                    whiteouts += 1
                    continue
                tar.add(path, arcname=arc, recursive=False, filter=numeric)
                if stat.S_ISDIR(st.st_mode) and opaque(path) and os.path.isdir(os.path.join(lower, arc)):
                    marker(tar, os.path.join(arc, ".wh..wh..opq"), st)
                    opaques += 1
    print("[installer] layer %s: %d whiteouts, %d opaque dirs" % (out, whiteouts, opaques))


if __name__ == "__main__":
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2], sys.argv[3])
