# shellcheck shell=bash
# Local base images for deploy/images/Dockerfile, made without any registry: a Debian bookworm
# root filesystem from debootstrap (cached), imported into the engine as harness/debian-base,
# plus the host's .NET SDK (build stage) and the host's .NET + ASP.NET Core runtimes (final
# stage) layered onto it the same way. Sourced by test.sh after docker.sh; idempotent.

HARNESS_BASE_IMAGE=harness/debian-base:bookworm
HARNESS_SDK_IMAGE=harness/dotnet-sdk:10.0
HARNESS_RUNTIME_IMAGE=harness/dotnet-runtime:10.0
HARNESS_IMAGE_CACHE=${HARNESS_IMAGE_CACHE:-/var/cache/harness}
# Bump when the package set changes, so cached root filesystems are rebuilt.
HARNESS_ROOTFS_MARK=.harness-rootfs-v1

# The cached root filesystem: minbase plus what .NET needs (OpenSSL, ICU, CA certificates).
ensure_debian_rootfs() {
  local rootfs="$HARNESS_IMAGE_CACHE/debian-bookworm"
  if [ -e "$rootfs/$HARNESS_ROOTFS_MARK" ]; then
    echo "$rootfs"
    return
  fi
  command -v debootstrap >/dev/null || as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq debootstrap >/dev/null
  as_root rm -rf "$rootfs.tmp" "$rootfs"
  as_root mkdir -p "$HARNESS_IMAGE_CACHE"
  echo "==> debootstrap Debian bookworm (minbase) into $rootfs (once; cached)" >&2
  as_root debootstrap --variant=minbase --include=libssl3,libicu72,ca-certificates \
    bookworm "$rootfs.tmp" http://deb.debian.org/debian >&2
  as_root chroot "$rootfs.tmp" apt-get clean
  as_root rm -rf "$rootfs.tmp/var/lib/apt/lists/"*
  as_root touch "$rootfs.tmp/$HARNESS_ROOTFS_MARK"
  as_root mv "$rootfs.tmp" "$rootfs"
  echo "$rootfs"
}

# Imports the base, SDK and runtime images into the engine at $1 (default HARNESS_TEST_DOCKER_HOST).
build_base_images() {
  local host=${1:-${HARNESS_TEST_DOCKER_HOST:?start_private_dockerd first}}
  local docker=(docker -H "$host")
  if "${docker[@]}" image inspect "$HARNESS_BASE_IMAGE" "$HARNESS_SDK_IMAGE" "$HARNESS_RUNTIME_IMAGE" >/dev/null 2>&1; then
    return
  fi
  local rootfs dotnet_root
  rootfs=$(ensure_debian_rootfs)
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  local env=(--change 'ENV PATH=/usr/share/dotnet:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
    --change 'ENV DOTNET_ROOT=/usr/share/dotnet' --change 'ENV DOTNET_CLI_TELEMETRY_OPTOUT=1' --change 'ENV DOTNET_NOLOGO=1')
  echo "==> Importing $HARNESS_BASE_IMAGE, $HARNESS_SDK_IMAGE and $HARNESS_RUNTIME_IMAGE (.NET from $dotnet_root)"
  as_root tar -C "$rootfs" --exclude="./$HARNESS_ROOTFS_MARK" -cf - . | "${docker[@]}" import - "$HARNESS_BASE_IMAGE" >/dev/null
  # One layer each: the root filesystem plus a .NET tree at /usr/share/dotnet, staged with hard
  # links (no copy) so that every directory on the way has its own, world-readable entry.
  local stage
  stage=$(mktemp -d /tmp/harness-dotnet.XXXXXX)
  _stage_dotnet "$dotnet_root" "$stage/sdk" dotnet host sdk shared packs sdk-manifests templates
  _stage_dotnet "$dotnet_root" "$stage/runtime" dotnet host shared/Microsoft.NETCore.App shared/Microsoft.AspNetCore.App
  as_root tar -cf - -C "$rootfs" --exclude="./$HARNESS_ROOTFS_MARK" . -C "$stage/sdk" ./usr/share/dotnet \
    | "${docker[@]}" import "${env[@]}" - "$HARNESS_SDK_IMAGE" >/dev/null
  as_root tar -cf - -C "$rootfs" --exclude="./$HARNESS_ROOTFS_MARK" . -C "$stage/runtime" ./usr/share/dotnet \
    | "${docker[@]}" import "${env[@]}" - "$HARNESS_RUNTIME_IMAGE" >/dev/null
  as_root rm -rf "$stage"
}

# _stage_dotnet DOTNET_ROOT STAGE PART...: STAGE/usr/share/dotnet/PART for each part, hard-linked when possible.
_stage_dotnet() {
  local from=$1 stage=$2 to=$2/usr/share/dotnet part
  shift 2
  mkdir -p "$to"
  chmod 0755 "$stage" "$stage/usr" "$stage/usr/share" "$to"
  for part in "$@"; do
    [ -e "$from/$part" ] || continue
    mkdir -p "$to/$(dirname "$part")"
    chmod 0755 "$to/$(dirname "$part")"
    cp -al "$from/$part" "$to/$part" 2>/dev/null || cp -a "$from/$part" "$to/$part"
  done
}

# The offline NuGet feed the Dockerfile's build stage restores from: exactly the packages the
# harness executable needs, in the hierarchical layout (id/version/*.nupkg) NuGet reads as a feed.
prepare_nuget_offline() {
  local repo=${1:-.}
  dotnet restore "$repo/src/Harness.Cli" --packages "$repo/.nuget-offline" -v q >/dev/null
}

# Builds harness/server and harness/agent from deploy/images/Dockerfile on the engine at $1.
build_harness_images() {
  local host=${1:-${HARNESS_TEST_DOCKER_HOST:?start_private_dockerd first}} repo=${2:-.}
  build_base_images "$host"
  prepare_nuget_offline "$repo"
  local target
  for target in server agent; do
    DOCKER_BUILDKIT=0 docker -H "$host" build -q --network none -f "$repo/deploy/images/Dockerfile" \
      --target "$target" -t "harness/$target:local" "$repo" >/dev/null
  done
}
