# Sourced by the lab installers' build.sh: the hash of a set of files (relative path, whether it
# is executable, and content of each: git's view, so the key is the same whatever umask the
# checkout was made with), the recipe key a build is cached under.
#   tree_hash DIR PATH...   -> 16 hex characters
tree_hash() {
  local dir="$1"; shift
  (
    cd "$dir"
    find "$@" -type f ! -path '*/__pycache__/*' ! -name '*.pyc' ! -name '*~' ! -name '.*.sw?' -print0 \
      | sort -z | while IFS= read -r -d '' f; do
          printf '%s %s %s\n' "$f" "$([ -x "$f" ] && echo 755 || echo 644)" "$(sha256sum <"$f" | cut -c1-64)"
        done
  ) | sha256sum | cut -c1-16
}
