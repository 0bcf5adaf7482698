#!/usr/bin/env bash
# Writes the config.json that each Keras 3 minor release (its last patch release) saves for both seed models, and
# the regression model saved by it as .keras and legacy .h5 with its predictions, into
# test/CnnLstm.Functional.Tests/Saving/KerasVersions/, for the tests that load every one (Saving/KerasVersionsTests.cs).
# Needs ../shared/tools/real-keras set up (Debian's python3-torch etc.) and a git directory of keras-team/keras with
# its tags (the `fetch` look-up tool gives one). Usage: tools/keras-fixtures/configs_across_versions.sh KERAS_GIT_DIR
set -euo pipefail
git_dir=$1
here=$(cd "$(dirname "$0")" && pwd)
out=$(cd "$here/../.." && pwd)/test/CnnLstm.Functional.Tests/Saving/KerasVersions
stubs=$(cd "$here/../../../shared/tools/real-keras" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"
for version in v3.0.5 v3.1.1 v3.2.1 v3.3.3 v3.4.1 v3.5.0 v3.6.0 v3.7.0 v3.8.0 v3.9.2 v3.10.0 v3.11.3 v3.12.4 v3.13.2 v3.14.1 v3.15.1 v3.16.0; do
  if ! git -C "$git_dir" rev-parse -q --verify "$version^{commit}" >/dev/null; then
    # The snapshot's own release has no tag yet: its HEAD.
    ref=HEAD
  else
    ref=$version
  fi
  mkdir -p "$work/$version/k3"
  git -C "$git_dir" archive "$ref" keras | tar -x -C "$work/$version/k3"
  # The patches fit the newest releases; an older release that lacks what they patch needs no patch.
  for patch in "$stubs"/patches/*.sh; do bash "$patch" "$work/$version/k3" >/dev/null 2>&1 || true; done
  PYTHONPATH="$work/$version/k3:$stubs/stubs" KERAS_BACKEND=torch KERAS_HOME="$work/home" \
    /usr/bin/python3 "$here/dump_configs.py" "$out" 2>"$work/$version.log" || { echo "Keras $version failed:" >&2; tail -3 "$work/$version.log" >&2; }
done
