# shellcheck shell=bash
# Component builders, called through tc_component (lib.sh) as `tc_build_X OUTDIR WORKDIR`.
# Every source comes from the Go module proxy at the versions pinned in versions.sh and in the
# go.mod/go.sum files of scripts/toolchain/<component>/; nothing is downloaded from anywhere else.

# Pulumi CLI plus the Node.js helper scripts that ship in the sdk/v3 module (sdk/nodejs/dist).
tc_build_cli() {
  local out="$1" work="$2" v="v$TC_PULUMI_VERSION" sdk f got
  tc_prepare_module cli "$work"
  cd "$work" || return 1
  mkdir -p "$out/bin"
  go build -tags osusergo,grpcnotrace \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    -o "$out/bin/pulumi" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
  sdk="$(tc_mod_dir "github.com/pulumi/pulumi/sdk/v3@$v")"
  for f in "$sdk"/nodejs/dist/pulumi-*; do
    case "$f" in *.cmd) continue ;; esac
    install -m 0755 "$f" "$out/bin/"
  done
  [ -x "$out/bin/pulumi-resource-pulumi-nodejs" ] || {
    echo "sdk/v3@$v has no nodejs/dist/pulumi-resource-pulumi-nodejs"
    return 1
  }
  got="$(PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME="$work/.pulumi" "$out/bin/pulumi" version)"
  [ "$got" = "$v" ] || {
    echo "built pulumi reports '$got', expected $v"
    return 1
  }
}

# Only the Node.js helper scripts of sdk/v3 (for a CLI from PATH that came without them).
tc_build_nodejs_scripts() {
  local out="$1" sdk f
  sdk="$(tc_mod_dir "github.com/pulumi/pulumi/sdk/v3@v$TC_PULUMI_VERSION")"
  mkdir -p "$out/bin"
  for f in "$sdk"/nodejs/dist/pulumi-*; do
    case "$f" in *.cmd) continue ;; esac
    install -m 0755 "$f" "$out/bin/"
  done
}

# Node.js language host (see versions.sh for why it comes from sdk/v3 v3.68.0): that host as
# pulumi-language-nodejs-v3.68.0, and in front of it harbor-ha's small proxy (langhost/proxy) as
# pulumi-language-nodejs, which adds RunPlugin for policy packs.
tc_build_langhost() {
  local out="$1" work="$2" v="v$TC_LANGHOST_SDK_VERSION"
  tc_prepare_module langhost "$work"
  cd "$work" || return 1
  mkdir -p "$out/bin"
  go build -tags osusergo \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$v" \
    -o "$out/bin/pulumi-language-nodejs-$v" github.com/pulumi/pulumi/sdk/v3/nodejs/cmd/pulumi-language-nodejs
  cd proxy || return 1
  go build -ldflags "-s -w" -o "$out/bin/pulumi-language-nodejs" .
}

# random: the upstream Terraform provider and the Pulumi Terraform bridge from the module proxy,
# with the small bridge wrapper in scripts/toolchain/random (the pulumi-random provider module
# itself is not served by the proxy). The schema is generated at build time.
tc_build_random() {
  local out="$1" work="$2"
  tc_build_bridged random "$TC_PLUGIN_RANDOM_VERSION" "$out" "$work"
}

tc_build_docker() {
  local out="$1" work="$2"
  tc_build_bridged docker "$TC_PLUGIN_DOCKER_VERSION" "$out" "$work"
}

# tc_build_bridged NAME VERSION OUT WORK: builds pulumi-tfgen-NAME, generates schema.json with it,
# then builds pulumi-resource-NAME with the schema embedded and the version stamped.
tc_build_bridged() {
  local name="$1" version="$2" out="$3" work="$4" tags=""
  local ldflags="-s -w -X harbor-ha.local/toolchain/$name/info.Version=$version"
  tc_prepare_module "$name" "$work"
  cd "$work" || return 1
  if [ -x ./prepare.sh ]; then ./prepare.sh; fi
  [ -f build-tags ] && tags="$(cat build-tags)"
  mkdir -p "$out/bin" "$work/schema"
  go build -tags "$tags" -ldflags "$ldflags" -o "$work/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name"
  PULUMI_SKIP_UPDATE_CHECK=true PULUMI_HOME="$work/.pulumi" \
    "$work/pulumi-tfgen-$name" schema --skip-docs --skip-examples --out "$work/schema"
  cp "$work/schema/schema.json" "./cmd/pulumi-resource-$name/schema.json"
  go build -tags "$tags" -ldflags "$ldflags" -o "$out/bin/pulumi-resource-$name" "./cmd/pulumi-resource-$name"
}

# command: see scripts/toolchain/command/README.md.
tc_build_command() {
  local out="$1" work="$2"
  tc_prepare_module command "$work"
  cd "$work" || return 1
  mkdir -p "$out/bin"
  go build -ldflags "-s -w -X main.version=$TC_PLUGIN_COMMAND_VERSION" \
    -o "$out/bin/pulumi-resource-command" .
}

# Docker Compose v2 CLI plugin (scripts/toolchain/compose.sh): upstream's own module, built in a copy
# of its source exactly as its Makefile's `build` target does (go.mod/go.sum as released, -trimpath,
# tags "e2e", `-w -X .../internal.Version=vX.Y.Z`; CGO_ENABLED=0 from tc_go_env, as in its Dockerfile),
# so the binary is upstream's release in all but the Go version. The source copy stays in WORKDIR,
# never in the repository.
tc_build_compose() {
  local out="$1" work="$2" v="v$TC_COMPOSE_VERSION" mod="github.com/docker/compose/v2" src got
  src="$(tc_mod_dir "$mod@$v")"
  cp -R "$src/." "$work/src"
  chmod -R u+w "$work/src" # the module cache is read-only
  cd "$work/src" || return 1
  mkdir -p "$out/bin"
  go build -trimpath -tags e2e -ldflags "-w -X $mod/internal.Version=$v" -o "$out/bin/docker-compose" ./cmd
  got="$("$out/bin/docker-compose" version --short)"
  [ "$got" = "${v#v}" ] || [ "$got" = "$v" ] || {
    echo "built docker-compose reports '$got', expected $v"
    return 1
  }
  {
    echo "source: $mod@$v from the Go module proxy ($(go mod download -json "$mod@$v" | sed -n 's/^[[:space:]]*"Sum": "\(.*\)",\{0,1\}$/\1/p'))"
    echo "build: CGO_ENABLED=0 go build -trimpath -tags e2e -ldflags '-w -X $mod/internal.Version=$v' ./cmd (upstream's Makefile)"
    echo "reports: docker-compose version --short = $got"
  } >"$out/BUILD-INFO.txt"
}
