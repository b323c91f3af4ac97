# harbor-ha: unpack the Harbor installer

set -euo pipefail
umask 077
export LC_ALL=C

main() {
dir=/opt/harbor
archive=/opt/harbor-installer.tgz
sha=aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa
marker="$dir/.harbor-ha/installer.sha256"
if [ -f "$marker" ] && [ "$(cat "$marker")" = "$sha" ]; then
  echo "installer: $sha already unpacked in $dir"
  exit 0
fi
echo "$sha  $archive" | sha256sum -c --quiet - || { echo "installer archive $archive does not match sha256 $sha" >&2; exit 1; }
command -v docker >/dev/null 2>&1 || { echo "docker is not installed on this node" >&2; exit 1; }
parent=$(dirname "$dir")
mkdir -p "$parent"
tmp=$(mktemp -d "$dir.unpack.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
tar -xzf "$archive" -C "$tmp" --strip-components=1 --no-same-owner
docker load -i "$tmp"/harbor.v1.2.2.tar.gz >/dev/null
mkdir -p "$dir"
cp -a "$tmp"/. "$dir"/
mkdir -p "$dir/.harbor-ha"
printf '%s\n' "$sha" >"$marker"
echo "installer: $sha unpacked in $dir, images loaded"
}

main; exit 0
