#!/usr/bin/env bash
# Gathers the Debian 12 libraries the GPU machine lacks (gRPC, protobuf + protoc + grpc_cpp_plugin,
# prometheus-cpp, Gloo, SQLite, CLI11, yaml-cpp, GoogleTest and their closure: abseil, re2,
# c-ares, OpenSSL, hiredis, ibverbs, civetweb, ...) and unpacks them with `dpkg -x` into
# deploy/gpu/sysroot/ (git-ignored), which travels to the GPU machine with the device tool's
# `carry`. Run it HERE (Debian 12, x86-64, apt works); it needs no root: `apt-get download`
# writes into a scratch folder, and packages already in /var/cache/apt/archives are copied.
#
# The closure is `apt-cache depends --recurse` of the -dev packages below, minus what every
# machine that can build C++ has (glibc, libstdc++, gcc's runtime) and minus libcurl's closure
# (only prometheus-cpp's push library needs curl; cyclr uses pull, so the unpacked
# prometheus-cpp-config.cmake is told that push is off and no longer asks for CURL).
#
# Then it trims what neither the build nor the run needs (docs, man pages, static libraries
# except GoogleTest's, which Debian ships only as .a) and prints the size of the sysroot and of
# everything that travels (the device tool carries ignored paths up to 64 MiB in all).
#
# Usage: deploy/gpu/gather-debs.sh [--keep-debs]    (the .debs go to build-gpu-check/debs)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD
sysroot=$root/deploy/gpu/sysroot
debs=$root/build-gpu-check/debs

roots=(
  libgrpc++-dev protobuf-compiler-grpc libprotobuf-dev protobuf-compiler libprotoc-dev
  prometheus-cpp-dev libgloo-dev libsqlite3-dev libcli11-dev libyaml-cpp-dev libgtest-dev
  zlib1g-dev
)
# What the GPU machine has (any glibc-based box with a C++ compiler), or what nothing here needs.
exclude_re='^(libc6|libc6-dev|libc-dev-bin|libgcc-s1|libstdc\+\+6|gcc-12-base|libstdc\+\+-12-dev|'\
'libgcc-12-dev|linux-libc-dev|libcrypt1|libcrypt-dev|libnsl2|libnsl-dev|libtirpc.*|rpcsvc-proto|'\
'debconf|dpkg|perl.*|libperl.*|tar|install-info|.*-base-files|'\
'libcurl.*|curl|libnghttp2.*|librtmp.*|libssh2.*|libldap.*|libkrb5.*|libgssapi.*|libk5crypto.*|'\
'libkrb5support.*|libcom-err2|libkeyutils1|libpsl.*|libbrotli.*|libzstd.*|libidn2.*|'\
'libunistring.*|libsasl2.*|libgnutls.*|libnettle.*|libhogweed.*|libgmp.*|libp11-kit.*|'\
'libtasn1.*|libffi.*|publicsuffix|libldap-common|libgcrypt.*|libgpg-error.*|'\
'gcc|g\+\+|cpp|gcc-12|g\+\+-12|cpp-12|binutils.*|libbinutils|libctf.*|libgprofng.*|'\
'libjansson.*|libsframe.*|libasan.*|libtsan.*|liblsan.*|libubsan.*|libitm.*|libquadmath.*|'\
'libatomic1|libgomp1|libcc1-0|libisl.*|libmpc.*|libmpfr.*|'\
'adduser|passwd|cdebconf|libdebian-installer4|libnewt.*|libslang2|libtextwrap1|libaudit.*|'\
'libcap-ng0|libdb5\.3|libpam.*|libpcre2-8-0|libreadline8|readline-common|libselinux1|'\
'libsemanage.*|libsepol2|libtinfo6|libbz2-1\.0|'\
'googletest|cmake|cmake-data|make|pkg-config|pkgconf.*|libpkgconf.*)$'

closure() {
  apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
      --no-replaces --no-enhances --no-pre-depends "$@" 2>/dev/null |
    awk '/^[a-z0-9]/ {print $1}' | grep -v '^<' | sort -u
}

mapfile -t all < <(closure "${roots[@]}")
pkgs=()
for p in "${all[@]}"; do
  [[ $p =~ $exclude_re ]] && continue
  # Virtual packages have no candidate version; their providers are in the list already.
  [[ -n $(apt-cache policy "$p" 2>/dev/null | awk '/Candidate:/ && $2 != "(none)" {print $2}') ]] ||
    continue
  pkgs+=("$p")
done
echo "gather-debs: ${#pkgs[@]} packages: ${pkgs[*]}"

mkdir -p "$debs"
for p in "${pkgs[@]}"; do
  ver=$(apt-cache policy "$p" | awk '/Candidate:/ {print $2}')
  arch=$(apt-cache show "$p=$ver" | awk '/^Architecture:/ {print $2; exit}')
  file="${p}_${ver//:/%3a}_${arch}.deb"
  [[ -s $debs/$file ]] && continue
  if [[ -s /var/cache/apt/archives/$file ]]; then
    cp /var/cache/apt/archives/"$file" "$debs/"
  else
    (cd "$debs" && apt-get download -qq "$p=$ver")
  fi
done

rm -rf "$sysroot"
mkdir -p "$sysroot"
for d in "$debs"/*.deb; do dpkg -x "$d" "$sysroot"; done
before=$(du -sm "$sysroot" | cut -f1)

# Trim: documentation, man pages, lintian overrides, locales, the other languages' gRPC plugins
# stay (gRPCTargets.cmake checks that every imported file exists); static libraries go, except
# GoogleTest's (its only form in Debian) and any .a a CMake config file names.
rm -rf "$sysroot"/usr/share/{doc,man,info,lintian,locale,bug,doc-base,gdb}
keep_static=$(grep -rhoE 'lib[A-Za-z0-9_+.-]+\.a' "$sysroot"/usr/lib/*/cmake "$sysroot"/usr/lib/cmake \
                2>/dev/null | sort -u || true)
while IFS= read -r -d '' a; do
  name=$(basename "$a")
  case $name in libgtest*.a|libgmock*.a) continue ;; esac
  grep -qxF "$name" <<<"$keep_static" && continue
  rm -f "$a"
done < <(find "$sysroot" -name '*.a' -print0)
# Debian builds prometheus-cpp with push (which needs libcurl, left out above); cyclr links core
# and pull only. The config's own switch turns find_dependency(CURL) off; the push target stays
# defined but unused, and CMake would refuse any link to it (CURL::libcurl does not exist).
prom_config=$(find "$sysroot" -name prometheus-cpp-config.cmake | head -1)
[[ -n $prom_config ]] || { echo "gather-debs: no prometheus-cpp-config.cmake unpacked" >&2; exit 1; }
sed -i 's/^set(PROMETHEUS_CPP_ENABLE_PUSH ON)$/set(PROMETHEUS_CPP_ENABLE_PUSH OFF)/' "$prom_config"
grep -qx 'set(PROMETHEUS_CPP_ENABLE_PUSH OFF)' "$prom_config" ||
  { echo "gather-debs: $prom_config: could not turn push off" >&2; exit 1; }
# Debug links and Python bindings are of no use there.
rm -rf "$sysroot"/usr/lib/debug "$sysroot"/usr/lib/python3*
[[ $(uname -m) == x86_64 ]] && find "$sysroot" -type f \( -name '*.so*' -o -path '*/bin/*' \) \
  -exec strip --strip-unneeded {} + 2>/dev/null || true

# Which glibc the unpacked libraries need at most (the GPU machine's must be at least this).
glibc=$(find "$sysroot" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec objdump -T {} + \
          2>/dev/null | grep -oE 'GLIBC_[0-9]+\.[0-9]+' | sort -uV | tail -1)
glibcxx=$(find "$sysroot" -type f \( -name '*.so*' -o -path '*/bin/*' \) -exec objdump -T {} + \
          2>/dev/null | grep -oE 'GLIBCXX_[0-9]+\.[0-9.]+' | sort -uV | tail -1)
{
  echo "# Written by deploy/gpu/gather-debs.sh on $(date -u +%F) from Debian $(cat /etc/debian_version)"
  echo "needs_glibc=${glibc#GLIBC_}"
  echo "needs_glibcxx=${glibcxx#GLIBCXX_}"
  for d in "$debs"/*.deb; do basename "$d"; done | sed 's/^/deb=/'
} >"$sysroot/MANIFEST"

after=$(du -sm "$sysroot" | cut -f1)
echo "gather-debs: sysroot $sysroot: ${after} MiB (${before} MiB before trimming)"
echo "gather-debs: needs $glibc and $glibcxx on the GPU machine"
# Everything that travels: the ignored paths carried (the sysroot) plus the tracked and
# untracked-but-not-ignored files of the working tree (git ls-files --others --exclude-standard).
tree_bytes=$( (git ls-files -z; git ls-files -z --others --exclude-standard) |
               xargs -0 stat -c %s 2>/dev/null | awk '{s+=$1} END {print s+0}')
sys_bytes=$(du -sb "$sysroot" | cut -f1)
awk -v t="$tree_bytes" -v s="$sys_bytes" 'BEGIN {
  printf "gather-debs: travels: sysroot %.1f MiB + working tree %.1f MiB = %.1f MiB (carry limit 64 MiB for the carried paths)\n",
    s / 1048576, t / 1048576, (s + t) / 1048576 }'
[[ ${1:-} == --keep-debs ]] || rm -rf "$debs"
