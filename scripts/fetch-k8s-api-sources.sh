#!/usr/bin/env bash
# Fetches the upstream Kubernetes API sources that scripts/gen-api-schema.mjs reads, from
# Debian's archive with apt's own client, and unpacks them (no install, nothing system-wide):
#
#   golang-k8s-api-dev          0.32.3-1   = k8s.io/api          v0.32.3 (Kubernetes 1.32.3)
#   golang-k8s-apimachinery-dev 0.32.3-2   = k8s.io/apimachinery v0.32.3
#
# They hold each group-version's generated.proto (messages, field numbers, the Go doc comments
# with their +patchStrategy/+listType markers), types.go (json tags: omitempty, pointers) and
# types_swagger_doc_generated.go (the descriptions the OpenAPI documents carry).
# The packages are in Debian 13 (trixie); this machine may run an older release, so apt reads
# trixie's index from a private state directory under the destination.
#
# Usage: scripts/fetch-k8s-api-sources.sh [DEST]   (default: ~/.cache/knet/k8s-api-sources)
set -euo pipefail
dest=${1:-${KNET_K8S_API_SOURCES:-$HOME/.cache/knet/k8s-api-sources}}
packages=(golang-k8s-api-dev=0.32.3-1 golang-k8s-apimachinery-dev=0.32.3-2)
apt_dir="$dest/.apt"
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$dest/debs"
# The Debian archive this machine's apt already uses, asked for the trixie suite.
mirror=$(apt-get indextargets --format '$(REPO_URI)' 'Origin: Debian' 'Label: Debian' 2>/dev/null | head -n1)
[ -n "$mirror" ] || { echo "error: no Debian archive configured for apt on this machine" >&2; exit 1; }
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror trixie main" >"$apt_dir/sources.list"
opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
  -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir/cache" -o APT::Sandbox::User=root)
apt-get "${opts[@]}" update -qq
(cd "$dest/debs" && apt-get "${opts[@]}" download "${packages[@]}")
for deb in "$dest"/debs/*.deb; do dpkg-deb -x "$deb" "$dest/root"; done
echo "unpacked into $dest/root/usr/share/gocode/src/k8s.io/{api,apimachinery}"
